"""diffusers' native attention backend passes `enable_gqa`, which torch 2.4 rejects (torch < 2.5).
The shim drops the argument when it is False (no grouped heads here); the math is unchanged."""
from __future__ import annotations

import torch.nn.functional as F

_original = F.scaled_dot_product_attention


def _without_gqa(*args, enable_gqa: bool = False, **kwargs):
    if enable_gqa:
        raise NotImplementedError("grouped-query attention is not used by the Qwen-Image transformer")
    return _original(*args, **kwargs)


def install() -> None:
    F.scaled_dot_product_attention = _without_gqa
