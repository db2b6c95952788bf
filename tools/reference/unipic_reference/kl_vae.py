"""KL-16 VAE in the LDM AutoencoderKL layout (MAR's KL-16), written from the UniPic-1 spec
(shared/docs, outside the repository). Attribute names
give the `kl16.ckpt["model"]` keys; GroupNorm groups come from the config (32 in the real model)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=1e-6)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=1e-6)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(swish(self.norm2(h)))
        shortcut = self.nin_shortcut(x) if self.nin_shortcut is not None else x
        return shortcut + h


class AttnBlock(nn.Module):
    """Single-head spatial self-attention with 1×1 convolutions, scale C^-0.5, residual."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        normed = self.norm(x)
        batch, channels, height, width = x.shape
        query = self.q(normed).reshape(batch, channels, height * width).transpose(1, 2)
        key = self.k(normed).reshape(batch, channels, height * width)
        value = self.v(normed).reshape(batch, channels, height * width)
        weights = torch.softmax(torch.bmm(query, key) * channels**-0.5, dim=-1)  # [B, queries, keys]
        attended = torch.bmm(value, weights.transpose(1, 2)).reshape(batch, channels, height, width)
        return x + self.proj_out(attended)


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Zero-pad right and bottom only, then a stride-2 valid convolution.
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Middle(nn.Module):
    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.block_1 = ResnetBlock(channels, channels, groups)
        self.attn_1 = AttnBlock(channels, groups)
        self.block_2 = ResnetBlock(channels, channels, groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block_2(self.attn_1(self.block_1(x)))


class Level(nn.Module):
    """One resolution level; `block`, `attn`, `downsample`/`upsample` as in the LDM key names."""


class Encoder(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        ch, multipliers, groups = config["ch"], config["ch_mult"], config["norm_num_groups"]
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        self.down = nn.ModuleList()
        channels_in = ch
        for level, multiplier in enumerate(multipliers):
            channels_out = ch * multiplier
            stage = Level()
            stage.block = nn.ModuleList()
            stage.attn = nn.ModuleList()
            for _ in range(config["num_res_blocks"]):
                stage.block.append(ResnetBlock(channels_in, channels_out, groups))
                channels_in = channels_out
                if level == config["attn_resolution_level"]:
                    stage.attn.append(AttnBlock(channels_out, groups))
            if level != len(multipliers) - 1:
                stage.downsample = Downsample(channels_out)
            self.down.append(stage)
        self.mid = Middle(channels_in, groups)
        self.norm_out = nn.GroupNorm(groups, channels_in, eps=1e-6)
        self.conv_out = nn.Conv2d(channels_in, 2 * config["z_channels"], 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for stage in self.down:
            for index, block in enumerate(stage.block):
                h = block(h)
                if len(stage.attn) > 0:
                    h = stage.attn[index](h)
            if hasattr(stage, "downsample"):
                h = stage.downsample(h)
        h = self.mid(h)
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        ch, multipliers, groups = config["ch"], config["ch_mult"], config["norm_num_groups"]
        channels_in = ch * multipliers[-1]
        self.conv_in = nn.Conv2d(config["z_channels"], channels_in, 3, padding=1)
        self.mid = Middle(channels_in, groups)
        levels: list[Level] = []
        for level in reversed(range(len(multipliers))):
            channels_out = ch * multipliers[level]
            stage = Level()
            stage.block = nn.ModuleList()
            stage.attn = nn.ModuleList()  # the decoder has no attention in its up levels
            for _ in range(config["num_res_blocks"] + 1):
                stage.block.append(ResnetBlock(channels_in, channels_out, groups))
                channels_in = channels_out
            if level != 0:
                stage.upsample = Upsample(channels_out)
            levels.insert(0, stage)  # `decoder.up.{l}` is stored at index l
        self.up = nn.ModuleList(levels)
        self.norm_out = nn.GroupNorm(groups, channels_in, eps=1e-6)
        self.conv_out = nn.Conv2d(channels_in, 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mid(self.conv_in(z))
        for level in reversed(range(len(self.up))):
            stage = self.up[level]
            for block in stage.block:
                h = block(h)
            if hasattr(stage, "upsample"):
                h = stage.upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class KlVae(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.scale = config["scale"]
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.quant_conv = nn.Conv2d(2 * config["z_channels"], 2 * config["embed_dim"], 1)
        self.post_quant_conv = nn.Conv2d(config["embed_dim"], config["embed_dim"], 1)

    def encode_tokens(self, pixels: torch.Tensor) -> torch.Tensor:
        """pixels [B, 3, S, S] in [-1, 1] -> scaled posterior mean [B, m, n, C] (patch size 1)."""
        moments = self.quant_conv(self.encoder(pixels))
        mean = moments.chunk(2, dim=1)[0]
        return (mean * self.scale).permute(0, 2, 3, 1).contiguous()

    def decode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """scaled tokens [B, m, n, C] -> pixels [B, 3, 16m, 16n] in about [-1, 1]."""
        latents = (tokens / self.scale).permute(0, 3, 1, 2)
        return self.decoder(self.post_quant_conv(latents))
