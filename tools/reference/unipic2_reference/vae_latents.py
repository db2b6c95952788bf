"""SD3 VAE around diffusers' AutoencoderKL (as the Kontext pipeline scales it): pixels in [-1, 1] -> posterior
(mean, logvar) -> scaled latent `(z - 0.0609) * 1.5305`; decode `x = dec(z / 1.5305 + 0.0609)`;
postprocess `round(clamp(x / 2 + 0.5, 0, 1) * 255)` (VaeImageProcessor, float32, numpy's
round-half-even)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import AutoencoderKL

from .tiny_config import VAE_SCALING, VAE_SHIFT


@dataclass
class Posterior:
    mean: torch.Tensor  # [B, 16, h, w]
    logvar: torch.Tensor  # clamped to [-30, 20], as DiagonalGaussianDistribution holds it
    std: torch.Tensor


# Stage outputs recorded for debugging a VAE graph (small tensors only).
ENCODER_STAGES = ("down_blocks.0", "down_blocks.1", "down_blocks.2", "down_blocks.3", "mid_block")
DECODER_STAGES = ("conv_in", "mid_block", "up_blocks.0", "up_blocks.1")


@contextmanager
def recording(module: torch.nn.Module, stages, record):
    handles = []
    if record is not None:
        for stage in stages:
            handles.append(module.get_submodule(stage).register_forward_hook(
                lambda _m, _i, output, stage=stage: record(stage, output)))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def encode(vae: AutoencoderKL, pixels: torch.Tensor, record=None) -> Posterior:
    with recording(vae.encoder, ENCODER_STAGES, record):
        dist = vae.encode(pixels).latent_dist
    return Posterior(mean=dist.mean, logvar=dist.logvar, std=dist.std)


def sample_latent(posterior: Posterior, eps: torch.Tensor) -> torch.Tensor:
    """`latent_dist.sample()` with its normal draw injected: mean + std * eps."""
    return posterior.mean + posterior.std * eps


def scale_latent(z: torch.Tensor) -> torch.Tensor:
    return (z - VAE_SHIFT) * VAE_SCALING


def unscale_latent(latent: torch.Tensor) -> torch.Tensor:
    return latent / VAE_SCALING + VAE_SHIFT


@torch.no_grad()
def decode(vae: AutoencoderKL, latent: torch.Tensor, record=None) -> torch.Tensor:
    """latent is the sampler's (scaled) latent; returns the decoder output in pixel units."""
    with recording(vae.decoder, DECODER_STAGES, record):
        return vae.decode(unscale_latent(latent), return_dict=False)[0]


def postprocess(decoded: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] decoder output -> uint8 [B, H, W, 3]."""
    images = (decoded / 2 + 0.5).clamp(0, 1)
    array = images.cpu().permute(0, 2, 3, 1).float().numpy()
    return (array * 255).round().astype("uint8")
