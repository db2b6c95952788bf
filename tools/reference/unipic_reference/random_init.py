"""Seeded random weights for the tiny model. Scales are chosen so that every block changes its
input visibly (fan-in scaled linears and convolutions, norm weights near 1, learned tables and
tokens of unit order): with the official near-zero inits the tiny blocks would be almost the
identity and a wrong attention or a swapped chunk could hide under the tolerances."""
from __future__ import annotations

import math

import torch
from torch import nn
from transformers.models.qwen2.modeling_qwen2 import Qwen2RMSNorm

# Per-parameter-name gains on top of 1/sqrt(fan_in). The diffusion head's output and modulation
# layers stay smaller so that the learned-variance fraction (v+1)/2 mostly lies in [0, 1] and the
# sampler does not extrapolate the log-variance far; the VAE's last convolution keeps most pixels
# inside [-1, 1] so the uint8 image is not all saturated.
GAIN_OVERRIDES = {
    "mar.diffloss.net.final_layer.linear.weight": 0.5,
    "mar.diffloss.net.final_layer.adaLN_modulation.1.weight": 0.01,
    "decoder.conv_out.weight": 0.5,
}
ADALN_GAIN = 0.5
# RMS of the constant part of the diffusion head's hidden state (see make_head_denoise_like).
BIAS_RMS = 8.0


def _normal(generator: torch.Generator, shape, std: float, mean: float = 0.0) -> torch.Tensor:
    return torch.randn(shape, generator=generator, dtype=torch.float32) * std + mean


@torch.no_grad()
def initialise(module: nn.Module, generator: torch.Generator, prefix: str = "") -> None:
    """Visits parameters in `named_modules()` order so the result depends only on the seed."""
    embeddings = {m.weight.data_ptr() for m in module.modules() if isinstance(m, nn.Embedding)}
    for name, child in module.named_modules():
        full = f"{prefix}{name}"
        if full.endswith("lm_head") and child.weight.data_ptr() in embeddings:
            continue  # tied to embed_tokens, initialised there
        if isinstance(child, (nn.Linear, nn.Conv2d)):
            fan_in = child.weight[0].numel()
            gain = GAIN_OVERRIDES.get(f"{full}.weight", ADALN_GAIN if "adaLN_modulation" in full else 1.0)
            child.weight.copy_(_normal(generator, child.weight.shape, gain / math.sqrt(fan_in)))
            if child.bias is not None:
                child.bias.copy_(_normal(generator, child.bias.shape, 0.05))
        elif isinstance(child, (nn.LayerNorm, nn.GroupNorm)):
            if child.weight is not None:
                child.weight.copy_(_normal(generator, child.weight.shape, 0.1, mean=1.0))
                child.bias.copy_(_normal(generator, child.bias.shape, 0.05))
        elif isinstance(child, Qwen2RMSNorm):
            child.weight.copy_(_normal(generator, child.weight.shape, 0.1, mean=1.0))
        elif isinstance(child, nn.Embedding):
            # Token embeddings of unit order; the tied lm_head then gives logits of spread ~1.
            std = 0.02 if full.endswith("class_emb") else 0.5
            child.weight.copy_(_normal(generator, child.weight.shape, std))


@torch.no_grad()
def initialise_mar_tables(mar: nn.Module, generator: torch.Generator) -> None:
    mar.fake_latent.copy_(_normal(generator, mar.fake_latent.shape, 1.0))
    mar.mask_token.copy_(_normal(generator, mar.mask_token.shape, 1.0))
    for table in (mar.encoder_pos_embed_learned, mar.decoder_pos_embed_learned, mar.diffusion_pos_embed_learned):
        table.copy_(_normal(generator, table.shape, 0.5))


@torch.no_grad()
def make_head_denoise_like(net: nn.Module, generator: torch.Generator) -> None:
    """A random head predicts eps unrelated to x_t, and the DDPM chain then multiplies the state
    by up to 1/sqrt(ᾱ'_99) ≈ 195: latents in the hundreds. A trained head predicts eps ≈ x_t at
    high noise. This makes the random head do roughly that while keeping every weight in play:

    - input_proj gets a large bias B orthogonal to its (mean-free) columns and to the ones
      vector, so the final LayerNorm divides by a nearly constant std(B) instead of |x_t|
      (no normalisation of x_t, which alone would push tokens to ~8);
    - the eps rows of the final linear read x_t back out (std(B) · pinv(input_proj) + noise);
    - the residual blocks still add condition- and time-dependent offsets, and the final
      modulation stays small because it multiplies the large constant part.
    """
    target = net.target_channels
    weight = net.input_proj.weight  # [width, C]
    width = weight.shape[0]
    weight -= weight.mean(dim=0, keepdim=True)
    basis, _ = torch.linalg.qr(torch.cat([torch.ones(width, 1) / math.sqrt(width), weight], dim=1), mode="complete")
    complement = basis[:, target + 1 :]
    bias = complement @ _normal(generator, (complement.shape[1],), 1.0)
    bias *= BIAS_RMS * math.sqrt(width) / bias.norm()
    net.input_proj.bias.copy_(bias)
    readout = BIAS_RMS * torch.linalg.pinv(weight)  # [C, width]
    noise = _normal(generator, readout.shape, 0.02 / math.sqrt(width))
    net.final_layer.linear.weight[:target].copy_(readout + noise)
    net.final_layer.linear.bias[:target].copy_(_normal(generator, (target,), 0.02))
