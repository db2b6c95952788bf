"""Builds the tiny modules and writes them in the published layouts, bf16 as published:
transformer/ (sharded safetensors + index, as Skywork/Unipic3), ema_transformer/ (config.json +
torch zip-pickle diffusion_pytorch_model.bin, as the distilled repos shipped), vae/, scheduler/.
The goldens use the bf16-rounded weights read back in float32 (what a converter sees)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageTransformer2DModel

from .tiny_config import SCHEDULER, TRANSFORMER, VAE_DF_TEST, VAE_FULL

SHARD_SIZE = "120KB"


def perturb_norms(module: torch.nn.Module, generator: torch.Generator) -> None:
    # Library init leaves every norm weight at 1; random ones make a wrong norm axis visible.
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith("gamma") or (name.endswith("norm.weight") or ".norm_" in name and name.endswith("weight")):
                param.copy_(1.0 + 0.2 * torch.randn(param.shape, generator=generator))


def _round_bf16(module: torch.nn.Module) -> torch.nn.Module:
    return module.to(torch.bfloat16).to(torch.float32).eval()


def build(seed: int = 0) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)
    transformer = QwenImageTransformer2DModel(**TRANSFORMER)
    vae = AutoencoderKLQwenImage(**VAE_FULL)
    vae_df = AutoencoderKLQwenImage(**VAE_DF_TEST)
    generator = torch.Generator().manual_seed(seed + 1)
    for module in (transformer, vae, vae_df):
        perturb_norms(module, generator)
    return {name: _round_bf16(module) for name, module in
            dict(transformer=transformer, vae=vae, vae_df_test=vae_df).items()}


def write(folder: Path, modules: dict[str, torch.nn.Module]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    transformer = modules["transformer"].to(torch.bfloat16)
    transformer.save_pretrained(folder / "transformer", safe_serialization=True, max_shard_size=SHARD_SIZE)
    ema = folder / "ema_transformer"
    ema.mkdir(exist_ok=True)
    transformer.save_config(ema)
    torch.save({k: v.clone() for k, v in transformer.state_dict().items()}, ema / "diffusion_pytorch_model.bin")
    transformer.to(torch.float32)
    modules["vae"].to(torch.bfloat16).save_pretrained(folder / "vae", safe_serialization=True)
    modules["vae"].to(torch.float32)
    FlowMatchEulerDiscreteScheduler(**SCHEDULER).save_pretrained(folder / "scheduler")
    index = {"_class_name": "QwenImageEditPipeline", "transformer": ["diffusers", "QwenImageTransformer2DModel"],
             "vae": ["diffusers", "AutoencoderKLQwenImage"],
             "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"]}
    (folder / "model_index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
