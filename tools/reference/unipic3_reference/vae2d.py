"""A Conv2d-only Qwen-Image VAE for single frames, written on diffusers' `AutoencoderKLQwenImage` state dict: every
causal 3×3×3 conv becomes a 2-D conv on the kernel's last temporal slice (the two frames in front
are causal zero padding), 1×1×1 convs become 1×1 2-D convs, the resamplers' time_conv is never
used. Compared against diffusers' 3-D VAE to prove the reduction the TypeScript graphs rely on."""
from __future__ import annotations

import torch
import torch.nn.functional as F


class Vae2d:
    def __init__(self, state: dict[str, torch.Tensor], config: dict):
        self.w = {k: v.float() for k, v in state.items()}
        self.config = config

    def conv(self, x, prefix, stride=1, pad=None):
        weight = self.w[f"{prefix}.weight"]
        if weight.dim() == 5:
            weight = weight[:, :, -1]
        k = weight.shape[-1]
        if pad is None:
            x = F.pad(x, [(k - 1) // 2] * 4)
        else:
            x = F.pad(x, pad)
        return F.conv2d(x, weight, self.w[f"{prefix}.bias"], stride=stride)

    def rms(self, x, prefix):
        gamma = self.w[f"{prefix}.gamma"].reshape(1, -1, 1, 1)
        norm = x.pow(2).sum(1, keepdim=True).sqrt().clamp_min(1e-12)
        return x / norm * (x.shape[1] ** 0.5) * gamma

    def res(self, x, prefix):
        shortcut = self.conv(x, f"{prefix}.conv_shortcut") if f"{prefix}.conv_shortcut.weight" in self.w else x
        h = self.conv(F.silu(self.rms(x, f"{prefix}.norm1")), f"{prefix}.conv1")
        h = self.conv(F.silu(self.rms(h, f"{prefix}.norm2")), f"{prefix}.conv2")
        return h + shortcut

    def attention(self, x, prefix):
        b, c, hgt, wid = x.shape
        qkv = self.conv(self.rms(x, f"{prefix}.norm"), f"{prefix}.to_qkv").reshape(b, 3 * c, hgt * wid)
        q, k, v = qkv.transpose(1, 2).chunk(3, dim=-1)
        scores = torch.softmax(q @ k.transpose(1, 2) / c ** 0.5, dim=-1)
        out = (scores @ v).transpose(1, 2).reshape(b, c, hgt, wid)
        return x + self.conv(out, f"{prefix}.proj")

    def mid(self, x, prefix):
        x = self.res(x, f"{prefix}.resnets.0")
        x = self.attention(x, f"{prefix}.attentions.0")
        return self.res(x, f"{prefix}.resnets.1")

    def encode_mean(self, image):
        """[B,3,H,W] in [-1,1] → posterior mean [B,z,H/8,W/8]."""
        x = self.conv(image, "encoder.conv_in")
        index = 0
        while f"encoder.down_blocks.{index}.norm1.gamma" in self.w or f"encoder.down_blocks.{index}.resample.1.weight" in self.w:
            prefix = f"encoder.down_blocks.{index}"
            if f"{prefix}.resample.1.weight" in self.w:
                x = self.conv(x, f"{prefix}.resample.1", stride=2, pad=[0, 1, 0, 1])
            else:
                x = self.res(x, prefix)
            index += 1
        x = self.mid(x, "encoder.mid_block")
        x = self.conv(F.silu(self.rms(x, "encoder.norm_out")), "encoder.conv_out")
        x = self.conv(x, "quant_conv")
        return x[:, : self.config["z_dim"]]

    def decode(self, z):
        """Unnormalised latents [B,z,h,w] → image [B,3,8h,8w] clamped to [-1,1]."""
        x = self.conv(self.conv(z, "post_quant_conv"), "decoder.conv_in")
        x = self.mid(x, "decoder.mid_block")
        block = 0
        while f"decoder.up_blocks.{block}.resnets.0.norm1.gamma" in self.w:
            prefix = f"decoder.up_blocks.{block}"
            index = 0
            while f"{prefix}.resnets.{index}.norm1.gamma" in self.w:
                x = self.res(x, f"{prefix}.resnets.{index}")
                index += 1
            if f"{prefix}.upsamplers.0.resample.1.weight" in self.w:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
                x = self.conv(x, f"{prefix}.upsamplers.0.resample.1")
            block += 1
        x = self.conv(F.silu(self.rms(x, "decoder.norm_out")), "decoder.conv_out")
        return x.clamp(-1.0, 1.0)
