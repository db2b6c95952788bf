"""Top-level tiny UniPic whose state_dict() has the official key layout: `llm.*`,
`mar.*`, `proj_in.*`, `proj_out.*`, `siglip2.*` (a few fake tensors), `siglip2_proj.*`.
The VAE is a separate module (it ships as kl16.ckpt, and the official training class filters
`vae.*` out of its state dict)."""
from __future__ import annotations

import torch
from torch import nn

from .mar_model import MarReference
from .qwen_llm import build_qwen
from .tiny_config import SIGLIP_HIDDEN_SIZE, TinyConfig


def two_layer_mlp(input_size: int, hidden_size: int, output_size: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(input_size, hidden_size), nn.SiLU(), nn.Linear(hidden_size, output_size))


class FakeSiglipVision(nn.Module):
    """Just enough `siglip2.vision_model.*` keys for a converter's "knowingly ignored" list."""

    def __init__(self, width: int):
        super().__init__()
        self.vision_model = nn.Module()
        self.vision_model.post_layernorm = nn.LayerNorm(width, eps=1e-6)
        layer = nn.Module()
        layer.self_attn = nn.Module()
        layer.self_attn.q_proj = nn.Linear(width, width)
        self.vision_model.encoder = nn.Module()
        self.vision_model.encoder.layers = nn.ModuleList([layer])


class UniPicReference(nn.Module):
    def __init__(self, config: TinyConfig):
        super().__init__()
        hidden = config.llm["hidden_size"]
        width = config.mar["encoder_embed_dim"]
        self.buffer_size = config.buffer_size
        self.llm = build_qwen(config.llm)
        self.mar = MarReference(config.mar, config.diffloss)
        self.proj_in = two_layer_mlp(width, hidden, hidden)
        self.proj_out = two_layer_mlp(hidden, hidden, width)
        self.siglip2 = FakeSiglipVision(SIGLIP_HIDDEN_SIZE)
        self.siglip2_proj = two_layer_mlp(SIGLIP_HIDDEN_SIZE, hidden, hidden)

    def llm_input(self, x_enc: torch.Tensor) -> torch.Tensor:
        """`mar_encoder.llm_in`: proj_in(x_enc) with the image rows first, the F buffers last."""
        projected = self.proj_in(x_enc)
        return torch.cat([projected[:, self.buffer_size :], projected[:, : self.buffer_size]], dim=1)

    def with_llm_residual(self, x_enc: torch.Tensor, llm_out: torch.Tensor) -> torch.Tensor:
        """x_enc + proj_out(llm_out rotated back to buffers-first)."""
        rotated = torch.cat([llm_out[:, -self.buffer_size :], llm_out[:, : -self.buffer_size]], dim=1)
        return x_enc + self.proj_out(rotated)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.llm.model.embed_tokens(input_ids)

    def lm_head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.llm.lm_head(hidden)
