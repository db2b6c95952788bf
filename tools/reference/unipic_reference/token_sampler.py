"""Per-token DDPM sampling (the official `gaussian_diffusion.py` `p_sample_loop`) with the noise passed in, so a TypeScript
sampler fed the same noise must reproduce the same tokens."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .diffusion_head import DiffusionHeadNet
from .diffusion_schedule import DiffusionTables


@dataclass
class TokenNoise:
    """start: [M, C]; steps: [S−1, M, C] where steps[j] is the draw used at k = S−1−j (the k = 0
    draw the official loop also makes is multiplied by zero, so it is not part of the contract)."""

    start: torch.Tensor
    steps: torch.Tensor

    @staticmethod
    def draw(generator: torch.Generator, rows: int, channels: int, steps: int) -> "TokenNoise":
        start = torch.randn(rows, channels, generator=generator, dtype=torch.float32)
        per_step = torch.randn(steps - 1, rows, channels, generator=generator, dtype=torch.float32)
        return TokenNoise(start=start, steps=per_step)


def _table(values, k: int, dtype: torch.dtype) -> torch.Tensor:
    # The official code indexes the float64 numpy table and casts the scalar to float32.
    return torch.tensor(float(values[k]), dtype=torch.float64).to(dtype)


def sample_tokens(
    net: DiffusionHeadNet,
    tables: DiffusionTables,
    condition: torch.Tensor,
    noise: TokenNoise,
    temperature: float,
    cfg_scale: torch.Tensor | float | None,
) -> torch.Tensor:
    """condition: [M, W] (no guidance) or [2M, W] = [cond rows; uncond rows] (guidance). Returns
    the M cond-row tokens. With guidance both halves are evaluated on the cond half's state
    (`forward_with_cfg` feeds `cat([half, half])`), eps is combined on the first C channels and
    the cond half's variance channels are used; the uncond half's own state never matters."""
    dtype = condition.dtype
    guided = cfg_scale is not None
    rows = condition.shape[0] // 2 if guided else condition.shape[0]
    channels = net.target_channels
    x = noise.start.to(dtype).clone()
    if x.shape != (rows, channels):
        raise ValueError(f"start noise {tuple(x.shape)} does not match {rows} rows")
    for k in reversed(range(tables.steps)):
        timestep = torch.full((2 * rows if guided else rows,), int(tables.timestep_map[k]), dtype=torch.int64)
        if guided:
            output = net(torch.cat([x, x], dim=0), timestep, condition)
            eps_cond, eps_uncond = output[:rows, :channels], output[rows:, :channels]
            eps = eps_uncond + cfg_scale * (eps_cond - eps_uncond)
            variance_values = output[:rows, channels:]
        else:
            output = net(x, timestep, condition)
            eps, variance_values = output[:, :channels], output[:, channels:]
        frac = (variance_values + 1) / 2
        log_variance = frac * _table(tables.log_betas, k, dtype) + (1 - frac) * _table(
            tables.posterior_log_variance_clipped, k, dtype
        )
        predicted_start = _table(tables.sqrt_recip_alphas_cumprod, k, dtype) * x - _table(
            tables.sqrt_recipm1_alphas_cumprod, k, dtype
        ) * eps
        mean = _table(tables.posterior_mean_coef1, k, dtype) * predicted_start + _table(
            tables.posterior_mean_coef2, k, dtype
        ) * x
        if k > 0:
            step_noise = noise.steps[tables.steps - 1 - k].to(dtype)
            x = mean + torch.exp(0.5 * log_variance) * step_noise * temperature
        else:
            x = mean
    return x
