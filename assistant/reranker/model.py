"""The reranker as a torch module, for training and for the set-up build (never on the query path).

The encoder is the bundled e5-small with LoRA adapters on its attention and feed-forward projections
(peft). Question and candidate are read together (each attends to the other); the score is a linear
head on the elementwise product of the two segments' mean token states, L2-normalised, plus a linear
head on the first token's state. The first head starts as SCALE x their cosine (e5's own notion of
relevance, which ranks the answering sentence first for about half the questions), the second at zero,
so training refines a working ranker and the pair head adds what the cosine cannot express (a head on
the pooled pair alone learned nothing in 300 steps: e5's states of different pairs differ too little).
Only the adapters and the heads are trained and shipped (``adapter.safetensors``, a few MB).
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


def is_trained(name: str) -> bool:
    """Whether a scorer parameter is trained (and shipped): the LoRA adapters and the heads."""
    return "lora_" in name or name.startswith(("head.", "head_pair."))


def with_lora(base: Any) -> Any:
    from peft import LoraConfig, get_peft_model

    return get_peft_model(base, LoraConfig(**LORA))


def save_artefact(scorer: Any, folder: Path, info: dict) -> None:
    """The trained adapters and head (fp16: a 3 MB file; the build merges them in fp32)."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {name: p.detach().to(torch.float16).contiguous()
               for name, p in scorer.named_parameters() if is_trained(name)}
    save_file(tensors, str(folder / ADAPTER_FILE))
    (folder / ADAPTER_FILE).chmod(0o644)
    (folder / CONFIG_FILE).write_text(json.dumps({"lora": LORA, **info}, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")


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
        json.loads(config.read_text(encoding="utf-8"))
    except Exception as exc:  # safetensors raises its own types for a damaged file
        raise ModelError(f"the reranker adapter file {adapter} is damaged ({' '.join(str(exc).split())[:100]}); "
                         "restore it from git, or run 'make train'") from None
    scorer = Scorer.make(with_lora(load_base(encoder_dir)))
    own = dict(scorer.named_parameters())
    missing = [n for n in own if is_trained(n) and n not in tensors]
    unknown = [n for n in tensors if n not in own]
    if missing or unknown:
        raise ModelError(f"the reranker adapter file {adapter} does not fit the encoder "
                         f"({len(missing)} tensors missing, {len(unknown)} unknown); run 'make train'")
    with torch.no_grad():
        for name, value in tensors.items():
            own[name].copy_(value.to(torch.float32))
    scorer.encoder = scorer.encoder.merge_and_unload()
    return scorer.eval()
