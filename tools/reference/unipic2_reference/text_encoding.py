"""SD3 prompt encoding as the Kontext pipeline does it (`encode_prompt` of
`pipeline_stable_diffusion_3_kontext.py`): CLIP-L and bigG penultimate
hidden states + projected pooled outputs, T5 last_hidden_state, channel zero-pad, join.

Tokenizers are the classes the official scripts load: the slow `CLIPTokenizer` (no ftfy in the
official environment, so transformers' BasicTokenizer cleanup runs) and `T5TokenizerFast`.
No attention mask is given to any encoder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from transformers import CLIPTextModelWithProjection, CLIPTokenizer, CLIPTokenizerFast, T5EncoderModel, T5TokenizerFast

from .tiny_config import CLIP_MAX_LENGTH, T5_MAX_LENGTH


@dataclass
class Tokenizers:
    clip_l: CLIPTokenizer
    clip_g: CLIPTokenizer
    t5: T5TokenizerFast
    clip_l_fast: CLIPTokenizerFast
    clip_g_fast: CLIPTokenizerFast

    @staticmethod
    def load(checkpoint: Path) -> "Tokenizers":
        return Tokenizers(
            clip_l=CLIPTokenizer.from_pretrained(checkpoint / "tokenizer"),
            clip_g=CLIPTokenizer.from_pretrained(checkpoint / "tokenizer_2"),
            t5=T5TokenizerFast.from_pretrained(checkpoint / "tokenizer_3"),
            clip_l_fast=CLIPTokenizerFast.from_pretrained(checkpoint / "tokenizer"),
            clip_g_fast=CLIPTokenizerFast.from_pretrained(checkpoint / "tokenizer_2"),
        )


def clip_ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, padding="max_length", max_length=CLIP_MAX_LENGTH, truncation=True).input_ids


def t5_ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, padding="max_length", max_length=T5_MAX_LENGTH, truncation=True, add_special_tokens=True).input_ids


@dataclass
class Encoders:
    clip_l: CLIPTextModelWithProjection
    clip_g: CLIPTextModelWithProjection
    t5: Optional[T5EncoderModel]
    joint_attention_dim: int


@dataclass
class PromptEncoding:
    ids_clip_l: torch.Tensor  # [1, 77] int64
    ids_clip_g: torch.Tensor
    ids_t5: Optional[torch.Tensor]  # [1, 256] or None without T5
    clip_l_hidden: torch.Tensor  # hidden_states[-2], [1, 77, 8]
    clip_l_pooled: torch.Tensor  # text_embeds, [1, 8]
    clip_g_hidden: torch.Tensor
    clip_g_pooled: torch.Tensor
    t5_hidden: torch.Tensor  # [1, 256, 32], or zeros [1, 77, joint_attention_dim] without T5
    prompt_embeds: torch.Tensor  # [1, 77 + 256 (or 77), 32]
    pooled: torch.Tensor  # [1, 24]


@torch.no_grad()
def encode_prompt(text: str, tokenizers: Tokenizers, encoders: Encoders) -> PromptEncoding:
    ids_l = torch.tensor([clip_ids(tokenizers.clip_l, text)], dtype=torch.int64)
    ids_g = torch.tensor([clip_ids(tokenizers.clip_g, text)], dtype=torch.int64)
    out_l = encoders.clip_l(ids_l, output_hidden_states=True)
    out_g = encoders.clip_g(ids_g, output_hidden_states=True)
    clip = torch.cat([out_l.hidden_states[-2], out_g.hidden_states[-2]], dim=-1)
    if encoders.t5 is None:
        ids_t5 = None
        # The pipeline's fallback: zeros of length tokenizer_max_length (77), width joint_attention_dim.
        t5_hidden = torch.zeros(1, CLIP_MAX_LENGTH, encoders.joint_attention_dim)
    else:
        ids_t5 = torch.tensor([t5_ids(tokenizers.t5, text)], dtype=torch.int64)
        t5_hidden = encoders.t5(ids_t5).last_hidden_state
    clip = torch.nn.functional.pad(clip, (0, t5_hidden.shape[-1] - clip.shape[-1]))
    return PromptEncoding(
        ids_clip_l=ids_l,
        ids_clip_g=ids_g,
        ids_t5=ids_t5,
        clip_l_hidden=out_l.hidden_states[-2],
        clip_l_pooled=out_l.text_embeds,
        clip_g_hidden=out_g.hidden_states[-2],
        clip_g_pooled=out_g.text_embeds,
        t5_hidden=t5_hidden,
        prompt_embeds=torch.cat([clip, t5_hidden], dim=-2),
        pooled=torch.cat([out_l.text_embeds, out_g.text_embeds], dim=-1),
    )
