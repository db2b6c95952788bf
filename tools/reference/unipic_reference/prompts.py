"""Prompt token ids exactly as the official scripts build them, with the real Qwen2.5
tokenizer files the repo bundles (assets/qwen2.5-tokenizer) and `<image>` added as a special token."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import AutoTokenizer

from .tiny_config import REPOSITORY_ROOT

TOKENIZER_DIRECTORY = REPOSITORY_ROOT / "assets" / "qwen2.5-tokenizer"
INSTRUCTION = "<|im_start|>user\n{input}<|im_end|>\n<|im_start|>assistant\n"
IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_ID = 151665
EOS_TOKEN_ID = 151645
T2I_PREFIX = "Generate an image: "
T2I_NEGATIVE = "Generate an image."
EDIT_NEGATIVE = "Repeat this image."


def load_tokenizer():
    tokenizer = AutoTokenizer.from_pretrained(str(TOKENIZER_DIRECTORY))
    tokenizer.add_tokens([IMAGE_TOKEN], special_tokens=True)
    if tokenizer.convert_tokens_to_ids(IMAGE_TOKEN) != IMAGE_TOKEN_ID or tokenizer.eos_token_id != EOS_TOKEN_ID:
        raise AssertionError("unexpected <image> or eos id")
    return tokenizer


@dataclass(frozen=True)
class PromptBatch:
    texts: list[str]  # with `<image>` not yet expanded
    input_ids: torch.Tensor  # [rows, P] int64, right-padded with eos
    attention_mask: torch.Tensor  # [rows, P] int64, 0 on padding


def encode_rows(tokenizer, texts: list[str], image_tokens: int = 0) -> PromptBatch:
    rows = []
    for text in texts:
        expanded = text.replace(IMAGE_TOKEN, IMAGE_TOKEN * image_tokens)
        rows.append(tokenizer.encode(expanded, add_special_tokens=True))
    length = max(len(row) for row in rows)
    ids = torch.full((len(rows), length), EOS_TOKEN_ID, dtype=torch.int64)
    mask = torch.zeros((len(rows), length), dtype=torch.int64)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = torch.tensor(row, dtype=torch.int64)
        mask[index, : len(row)] = 1
    return PromptBatch(texts=texts, input_ids=ids, attention_mask=mask)


def generation_prompts(tokenizer, user_prompt: str, num_images: int, guided: bool) -> PromptBatch:
    """Rows: num_images cond rows, then (with guidance) num_images uncond rows, as the official scripts batch them."""
    cond = INSTRUCTION.format(input=T2I_PREFIX + user_prompt)
    uncond = INSTRUCTION.format(input=T2I_NEGATIVE)
    return encode_rows(tokenizer, [cond] * num_images + ([uncond] * num_images if guided else []))


def edit_prompts(tokenizer, instruction: str, image_tokens: int, num_images: int, guided: bool) -> PromptBatch:
    cond = INSTRUCTION.format(input=IMAGE_TOKEN + "\n" + instruction.strip())
    uncond = INSTRUCTION.format(input=IMAGE_TOKEN + "\n" + EDIT_NEGATIVE)
    return encode_rows(tokenizer, [cond] * num_images + ([uncond] * num_images if guided else []), image_tokens)


def understanding_prompt(tokenizer, question: str, image_tokens: int) -> PromptBatch:
    return encode_rows(tokenizer, [INSTRUCTION.format(input=IMAGE_TOKEN + "\n" + question)], image_tokens)
