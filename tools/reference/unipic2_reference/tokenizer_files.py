"""Writes the three SD3 tokenizer folders of the checkpoint from the real vocabularies in
shared/fixtures (CLIP BPE vocab/merges, T5 tokenizer.json) with SD3's published settings.

tokenizer/ and tokenizer_2/ are the slow-tokenizer files SD3 ships (vocab.json, merges.txt,
special_tokens_map.json, tokenizer_config.json; no tokenizer.json); they differ only in the pad
token: `<|endoftext|>` for CLIP-L, `!` (id 0, registered as a special added token) for bigG.
tokenizer_3/ is T5's tokenizer.json plus its configs; no spiece.model (none is available here,
and T5TokenizerFast, which the pipeline uses, reads tokenizer.json).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .tiny_config import SHARED_FIXTURES


def _token(content: str, normalized: bool) -> dict:
    return {"content": content, "lstrip": False, "normalized": normalized, "rstrip": False, "single_word": False, "special": True}


def _dump(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def write_clip_tokenizer(folder: Path, pad_token: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    source = SHARED_FIXTURES / "clip-bpe"
    shutil.copyfile(source / "vocab.json", folder / "vocab.json")
    shutil.copyfile(source / "merges.txt", folder / "merges.txt")
    added = {"49406": _token("<|startoftext|>", True), "49407": _token("<|endoftext|>", False)}
    if pad_token == "!":
        added["0"] = _token("!", False)
    _dump(
        folder / "tokenizer_config.json",
        {
            "add_prefix_space": False,
            "added_tokens_decoder": added,
            "bos_token": "<|startoftext|>",
            "clean_up_tokenization_spaces": True,
            "do_lower_case": True,
            "eos_token": "<|endoftext|>",
            "errors": "replace",
            "model_max_length": 77,
            "pad_token": pad_token,
            "tokenizer_class": "CLIPTokenizer",
            "unk_token": "<|endoftext|>",
        },
    )
    special = {key: {k: v for k, v in _token(value, True).items() if k != "special"} for key, value in
               [("bos_token", "<|startoftext|>"), ("eos_token", "<|endoftext|>"), ("unk_token", "<|endoftext|>")]}
    special["pad_token"] = pad_token if pad_token == "!" else special["eos_token"]
    _dump(folder / "special_tokens_map.json", special)


def write_t5_tokenizer(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHARED_FIXTURES / "t5-tokenizer" / "tokenizer.json", folder / "tokenizer.json")
    extra = [f"<extra_id_{i}>" for i in range(100)]
    _dump(
        folder / "tokenizer_config.json",
        {
            "additional_special_tokens": extra,
            "clean_up_tokenization_spaces": True,
            "eos_token": "</s>",
            "extra_ids": 100,
            "legacy": True,
            "model_max_length": 512,
            "pad_token": "<pad>",
            "sp_model_kwargs": {},
            "tokenizer_class": "T5Tokenizer",
            "unk_token": "<unk>",
        },
    )
    _dump(
        folder / "special_tokens_map.json",
        {"additional_special_tokens": extra, "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"},
    )


def write_tokenizers(checkpoint: Path) -> None:
    write_clip_tokenizer(checkpoint / "tokenizer", "<|endoftext|>")
    write_clip_tokenizer(checkpoint / "tokenizer_2", "!")
    write_t5_tokenizer(checkpoint / "tokenizer_3")
