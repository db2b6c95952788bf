"""Goldens of tokenization (the corpus in tokens.json) and prompt encoding (text.safetensors)."""
from __future__ import annotations

import json
from pathlib import Path

from . import prompts
from .golden_store import GoldenStore
from .text_encoding import Tokenizers, clip_ids, encode_prompt, t5_ids


def write_token_corpus(out: Path, tokenizers: Tokenizers) -> Path:
    entries = []
    for text in prompts.CORPUS:
        entry = {
            "text": text,
            "clip_l": clip_ids(tokenizers.clip_l, text),
            "clip_g": clip_ids(tokenizers.clip_g, text),
            "t5": t5_ids(tokenizers.t5, text),
            "clip_l_unpadded": tokenizers.clip_l(text).input_ids,
            "clip_g_unpadded": tokenizers.clip_g(text).input_ids,
            "t5_unpadded": tokenizers.t5(text).input_ids,
            "clip_l_fast": clip_ids(tokenizers.clip_l_fast, text),
            "clip_g_fast": clip_ids(tokenizers.clip_g_fast, text),
        }
        entry["fast_differs"] = entry["clip_l_fast"] != entry["clip_l"] or entry["clip_g_fast"] != entry["clip_g"]
        entries.append(entry)
    path = out / "tokens.json"
    path.write_text(json.dumps({"format": 1, "corpus": entries}, ensure_ascii=False) + "\n")
    return path


def put_encoding(scope, enc) -> None:
    for name in ("ids_clip_l", "ids_clip_g", "ids_t5", "clip_l_hidden", "clip_l_pooled", "clip_g_hidden",
                 "clip_g_pooled", "t5_hidden", "prompt_embeds", "pooled"):
        value = getattr(enc, name)
        if value is not None:
            scope.put(name, value)


def write_text_goldens(store: GoldenStore, tokenizers: Tokenizers, models) -> dict:
    encodings = {}
    for key, text in prompts.TEXT_GOLDENS.items():
        enc = encode_prompt(text, tokenizers, models.encoders)
        put_encoding(store.scope("golden/text.safetensors", f"text.{key}"), enc)
        encodings[key] = enc
        if key in prompts.NO_T5_GOLDENS:
            no_t5 = encode_prompt(text, tokenizers, models.encoders_no_t5)
            put_encoding(store.scope("golden/text.safetensors", f"text.{key}_no_t5"), no_t5)
            encodings[f"{key}_no_t5"] = no_t5
    return encodings
