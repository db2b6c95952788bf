"""SD3 VAE around diffusers' AutoencoderKL (spec §2.2, §3.3): pixels in [-1, 1] -> posterior
(mean, logvar) -> scaled latent `(z - 0.0609) * 1.5305`; decode `x = dec(z / 1.5305 + 0.0609)`;
postprocess `round(clamp(x / 2 + 0.5, 0, 1) * 255)` (VaeImageProcessor, float32, numpy's
round-half-even)."""
from __future__ import annotations

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


@torch.no_grad()
def encode(vae: AutoencoderKL, pixels: torch.Tensor) -> Posterior:
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
def decode(vae: AutoencoderKL, latent: torch.Tensor) -> torch.Tensor:
    """latent is the sampler's (scaled) latent; returns the decoder output in pixel units."""
    return vae.decode(unscale_latent(latent), return_dict=False)[0]


def postprocess(decoded: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] decoder output -> uint8 [B, H, W, 3]."""
    images = (decoded / 2 + 0.5).clamp(0, 1)
    array = images.cpu().permute(0, 2, 3, 1).float().numpy()
    return (array * 255).round().astype("uint8")
