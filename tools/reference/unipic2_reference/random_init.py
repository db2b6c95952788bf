"""Seeded weights for the tiny components.

Library initialisations are too gentle for a test model (CLIP's embeddings are N(0, 0.02), SD3's
AdaLN-Zero blocks start near the identity), so a swapped chunk or a wrong attention could hide
under the tolerances. As in the UniPic-1 oracle: linears and convolutions are N(0, gain/sqrt(fan_in)),
biases N(0, 0.1), norm weights 1 + N(0, 0.1), norm biases N(0, 0.1), embeddings N(0, 0.5).
Buffers (the position table) are left as the library computes them.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def _normal(shape, std: float, generator: torch.Generator, mean: float = 0.0) -> torch.Tensor:
    return torch.randn(shape, generator=generator, dtype=torch.float32) * std + mean


@torch.no_grad()
def initialise(module: nn.Module, generator: torch.Generator, gain: float = 1.0) -> None:
    for name, param in sorted(module.named_parameters(), key=lambda item: item[0]):
        owner_name = name.rsplit(".", 1)[0] if "." in name else ""
        owner = module.get_submodule(owner_name) if owner_name else module
        leaf = name.rsplit(".", 1)[-1]
        if isinstance(owner, (nn.Linear, nn.Conv2d)):
            if leaf == "weight":
                fan_in = param[0].numel()
                param.copy_(_normal(param.shape, gain / math.sqrt(fan_in), generator))
            else:
                param.copy_(_normal(param.shape, 0.1, generator))
        elif isinstance(owner, nn.Embedding):
            param.copy_(_normal(param.shape, 0.5, generator))
        elif param.dim() == 1 and leaf in ("weight", "bias"):
            # LayerNorm / GroupNorm / RMSNorm (diffusers and T5 variants) affine parameters
            param.copy_(_normal(param.shape, 0.1, generator, mean=1.0 if leaf == "weight" else 0.0))
        elif leaf in ("position_embedding", "class_embedding"):
            param.copy_(_normal(param.shape, 0.5, generator))
        else:
            raise TypeError(f"no initialisation rule for {name} ({type(owner).__name__}, {tuple(param.shape)})")
