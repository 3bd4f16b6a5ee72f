"""The reranker as a torch module, for training and for the set-up build (never on the query path).

The encoder is the bundled e5-small with LoRA adapters on its attention and feed-forward projections
(peft). Question and candidate are read together (each attends to the other); the score is a linear
head on the elementwise product of the two segments' mean token states, L2-normalised, plus a linear
head on the first token's state. The first head starts as SCALE x their cosine (e5's own notion of
relevance, which ranks the answering sentence first for about half the questions), the second at zero,
so training refines a working ranker and the pair head adds what the cosine cannot express (a head on
the pooled pair alone learned nothing in 300 steps: e5's states of different pairs differ too little).
Only the trained parameters are shipped (``adapter.safetensors``): the adapters and the heads, and, when
the top encoder layers are trained in full instead of through adapters (``full_layers``), those layers.
``reranker.json`` records the shape, so a build always rebuilds the scorer the adapter was trained as.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ADAPTER_FILE = "adapter.safetensors"
SCALE = 20.0  # the head's starting weight: score = SCALE x (cosine - TYPICAL_COSINE)
TYPICAL_COSINE = 0.8  # e5 cosines of related and unrelated texts both lie around 0.75-0.9
CONFIG_FILE = "reranker.json"
# LoRA on every linear layer of the transformer blocks. r=16: 1.5M trainable parameters; measured
# per training pair the same cost as a full fine-tune with the word embeddings frozen (the backward
# pass through the encoder dominates), and an artefact of 6 MB instead of 90.
LORA = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05,
        "target_modules": ["query", "key", "value", "dense"]}  # "dense": attention output, FFN in and out
# How many of the top encoder layers are trained in full (and carry no adapter); 0 = adapters everywhere.
# Each costs ~1.8M parameters (3.6 MB in the artefact) and about the same per step as its adapter.
FULL_LAYERS = 0


def load_base(encoder_dir: Path) -> Any:
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # Eager attention traces into the pattern ONNX Runtime's optimizer fuses (ingest.embedmodel.export).
    return AutoModel.from_pretrained(str(encoder_dir), attn_implementation="eager", add_pooling_layer=False)


class Scorer:
    """Factory for the torch module (torch is imported only when one is made)."""

    @staticmethod
    def make(encoder: Any) -> Any:
        import torch

        class CrossScorer(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = encoder
                self.head = torch.nn.Linear(encoder.config.hidden_size, 1)
                self.head_pair = torch.nn.Linear(encoder.config.hidden_size, 1)
                with torch.no_grad():
                    self.head.weight.fill_(SCALE)
                    self.head.bias.fill_(-SCALE * TYPICAL_COSINE)
                    self.head_pair.weight.zero_()
                    self.head_pair.bias.zero_()

            def forward(self, input_ids: Any, attention_mask: Any, segment: Any) -> Any:
                return self.score(self.states(input_ids, attention_mask), segment)

            def states(self, input_ids: Any, attention_mask: Any) -> Any:
                """The encoder's last token states of the pairs (what the reader reads too)."""
                return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

            def score(self, states: Any, segment: Any) -> Any:
                query = _mean(states, segment == 1)
                candidate = _mean(states, segment == 2)
                return (self.head(query * candidate) + self.head_pair(states[:, 0])).squeeze(-1)

        def _mean(states: Any, where: Any) -> Any:
            weights = where.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
            return torch.nn.functional.normalize(pooled, dim=-1)

        return CrossScorer()


def trained(scorer: Any) -> dict[str, Any]:
    """The scorer's trained (and shipped) parameters by name: adapters, heads, and the layers trained in full."""
    return {name: p for name, p in scorer.named_parameters() if p.requires_grad}


def with_lora(base: Any, lora: dict | None = None, full_layers: int = FULL_LAYERS) -> Any:
    """The encoder with LoRA adapters on its lower layers and its top ``full_layers`` layers trainable
    in full; everything else (the word embeddings included) frozen."""
    from peft import LoraConfig, get_peft_model

    layers = base.config.num_hidden_layers
    if not 0 <= full_layers < layers:
        raise ValueError(f"full_layers must be in 0..{layers - 1}, not {full_layers}")
    config = dict(lora or LORA)
    if full_layers:
        config.update(layers_to_transform=list(range(layers - full_layers)), layers_pattern="layer")
    model = get_peft_model(base, LoraConfig(**config))
    top = {f".layer.{i}." for i in range(layers - full_layers, layers)}
    for name, p in model.named_parameters():
        if any(t in name for t in top):
            p.requires_grad_(True)
    return model


def make_scorer(encoder_dir: Path, lora: dict | None = None, full_layers: int = FULL_LAYERS) -> Any:
    """A scorer to train (or to load trained weights into): the encoder with adapters and heads; its
    ``shape`` is what ``save_artefact`` records for the build."""
    scorer = Scorer.make(with_lora(load_base(encoder_dir), lora, full_layers))
    scorer.shape = {"lora": dict(lora or LORA), "full_layers": full_layers}
    return scorer


def save_artefact(scorer: Any, folder: Path, info: dict) -> None:
    """The trained parameters (fp16: 3 MB with adapters only; the build merges them in fp32) and the
    shape they were trained in."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {name: p.detach().to(torch.float16).contiguous() for name, p in trained(scorer).items()}
    save_file(tensors, str(folder / ADAPTER_FILE))
    (folder / ADAPTER_FILE).chmod(0o644)
    (folder / CONFIG_FILE).write_text(json.dumps({**scorer.shape, **info}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load_artefact(encoder_dir: Path, folder: Path) -> Any:
    """The fp32 scorer with the shipped adapters merged into the encoder (deterministic)."""
    import torch
    from safetensors.torch import load_file

    from ingest import ModelError

    adapter, config = folder / ADAPTER_FILE, folder / CONFIG_FILE
    for needed in (adapter, config):
        if not needed.is_file():
            raise ModelError(f"the reranker adapter file {needed} is missing; restore it from git, or run 'make train'")
    try:
        tensors = load_file(str(adapter))
    except Exception as exc:  # safetensors raises its own types for a damaged file
        raise ModelError(f"the reranker adapter file {adapter} is damaged ({' '.join(str(exc).split())[:100]}); "
                         "restore it from git, or run 'make train'") from None
    try:
        shape = json.loads(config.read_text(encoding="utf-8"))
        lora, full_layers = dict(shape.get("lora", LORA)), int(shape.get("full_layers", 0))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ModelError(f"the reranker adapter file {config} is damaged ({' '.join(str(exc).split())[:100]}); "
                         "restore it from git, or run 'make train'") from None
    scorer = make_scorer(encoder_dir, lora, full_layers)
    own = dict(scorer.named_parameters())
    missing = [n for n in trained(scorer) if n not in tensors]
    unknown = [n for n in tensors if n not in own]
    if missing or unknown:
        raise ModelError(f"the reranker adapter file {adapter} does not fit the encoder "
                         f"({len(missing)} tensors missing, {len(unknown)} unknown); run 'make train'")
    with torch.no_grad():
        for name, value in tensors.items():
            own[name].copy_(value.to(torch.float32))
    scorer.encoder = scorer.encoder.merge_and_unload()
    return scorer.eval()
