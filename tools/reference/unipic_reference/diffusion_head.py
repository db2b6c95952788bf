"""The per-token diffusion network f(x_t, t, c) -> [eps | v] (MAR's `SimpleMLPAdaLN`), written from the UniPic-1 spec
(shared/docs, outside the repository).
Attribute names give the official `mar.diffloss.net.*` keys."""
from __future__ import annotations

import math

import torch
from torch import nn

TIME_FREQUENCY_SIZE = 256
TIME_MAX_PERIOD = 10000


def sinusoidal_time_features(timesteps: torch.Tensor) -> torch.Tensor:
    """[cos | sin] of t * exp(-ln(10000) * i / 128), cosine half first; t is the original
    0..999 timestep as float32, exactly as the network sees it."""
    half = TIME_FREQUENCY_SIZE // 2
    frequencies = torch.exp(
        -math.log(TIME_MAX_PERIOD) * torch.arange(half, dtype=torch.float32) / half
    )
    angles = timesteps.to(torch.float32)[:, None] * frequencies[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class TimeEmbedding(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(TIME_FREQUENCY_SIZE, width), nn.SiLU(), nn.Linear(width, width)
        )

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        features = sinusoidal_time_features(timesteps).to(self.mlp[0].weight.dtype)
        return self.mlp(features)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class AdaptiveResidualBlock(nn.Module):
    """h + gate * MLP(LN(h) * (1 + scale) + shift), with (shift, scale, gate) from the condition."""

    def __init__(self, width: int):
        super().__init__()
        self.in_ln = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 3 * width))

    def forward(self, h: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        shift, scale, gate = self.adaLN_modulation(condition).chunk(3, dim=-1)
        return h + gate * self.mlp(modulate(self.in_ln(h), shift, scale))


class FinalAdaptiveLayer(nn.Module):
    def __init__(self, width: int, out_channels: int):
        super().__init__()
        # No affine parameters: the official checkpoint has no `norm_final` keys.
        self.norm_final = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(width, out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))

    def forward(self, h: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        shift, scale = self.adaLN_modulation(condition).chunk(2, dim=-1)
        return self.linear(modulate(self.norm_final(h), shift, scale))


class DiffusionHeadNet(nn.Module):
    def __init__(self, target_channels: int, condition_channels: int, width: int, depth: int):
        super().__init__()
        self.target_channels = target_channels
        self.time_embed = TimeEmbedding(width)
        self.cond_embed = nn.Linear(condition_channels, width)
        self.input_proj = nn.Linear(target_channels, width)
        self.res_blocks = nn.ModuleList(AdaptiveResidualBlock(width) for _ in range(depth))
        # eps channels then variance-interpolation channels (learn_sigma).
        self.final_layer = FinalAdaptiveLayer(width, 2 * target_channels)

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = self.input_proj(x)
        y = self.time_embed(timesteps) + self.cond_embed(condition)
        for block in self.res_blocks:
            h = block(h, y)
        return self.final_layer(h, y)


class DiffusionLoss(nn.Module):
    """Holder so the network's keys read `diffloss.net.*` as in the official checkpoint."""

    def __init__(self, target_channels: int, condition_channels: int, width: int, depth: int):
        super().__init__()
        self.net = DiffusionHeadNet(target_channels, condition_channels, width, depth)
