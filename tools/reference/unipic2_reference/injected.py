"""Seeded injected inputs (noise, posterior draws): one generator per purpose, so adding a golden
never changes another one's inputs."""
from __future__ import annotations

import torch

from .tiny_config import SEED

STREAM_T2I_64x48, STREAM_T2I_32, STREAM_EDIT, STREAM_VAE_EPS, STREAM_VAE_DECODE, STREAM_T2I_NO_T5 = 10, 11, 12, 13, 14, 15
STREAM_T2I_CFG1 = 16
STREAM_CROSSCHECK = 99


def randn(shape, stream: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(SEED * 1000 + stream), dtype=torch.float32)
