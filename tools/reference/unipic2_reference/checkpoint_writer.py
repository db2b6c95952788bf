"""Writes the tiny Kontext checkpoint in the published diffusers layout, weights in bf16 as the
published repos store them (the transformer's `pos_embed.pos_embed` buffer included, bf16-rounded),
and reads it back in float32 for the goldens (so they are exactly what a converter sees).

Layout: model_index.json, transformer/, vae/, text_encoder/, text_encoder_2/, text_encoder_3/
(two shards + index, as T5-XXL is published), tokenizer/, tokenizer_2/, tokenizer_3/, scheduler/.
Variants of the transformer for the readers' tests: fp32 single file, bf16 sharded with index.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import diffusers
import torch
import transformers
from safetensors.torch import load_file
from diffusers import AutoencoderKL
from transformers import CLIPTextConfig, CLIPTextModelWithProjection, T5Config, T5EncoderModel

from .flow_schedule import make_scheduler
from .kontext_transformer import SD3Transformer2DKontextModel
from .random_init import initialise
from .text_encoding import Encoders
from .tiny_config import CLIP_G, CLIP_L, T5, TRANSFORMER, VAE
from .tokenizer_files import write_tokenizers

# Separate streams so adding a component never changes another one's weights.
STREAM_TRANSFORMER, STREAM_VAE, STREAM_CLIP_L, STREAM_CLIP_G, STREAM_T5 = 0, 1, 2, 3, 4
T5_SHARD_SIZE = "1MB"  # splits the tiny T5 into two shards like the published T5-XXL
TRANSFORMER_SHARD_SIZE = "100KB"


def generator(seed: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1000 + stream)


def build_random(seed: int) -> dict[str, torch.nn.Module]:
    torch.manual_seed(seed)  # library constructors draw before our initialise overwrites them
    modules = {
        "transformer": SD3Transformer2DKontextModel(**TRANSFORMER),
        "vae": AutoencoderKL(**VAE),
        "text_encoder": CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_L)),
        "text_encoder_2": CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_G)),
        "text_encoder_3": T5EncoderModel(T5Config(**T5)),
    }
    streams = dict(transformer=STREAM_TRANSFORMER, vae=STREAM_VAE, text_encoder=STREAM_CLIP_L,
                   text_encoder_2=STREAM_CLIP_G, text_encoder_3=STREAM_T5)
    for name, module in modules.items():
        initialise(module, generator(seed, streams[name]))
    return {name: module.eval() for name, module in modules.items()}


def model_index() -> dict:
    return {
        "_class_name": "StableDiffusion3KontextPipeline",
        "_diffusers_version": diffusers.__version__,
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "text_encoder_3": ["transformers", "T5EncoderModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "tokenizer_3": ["transformers", "T5TokenizerFast"],
        "transformer": ["diffusers", "SD3Transformer2DKontextModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }


def write_checkpoint(folder: Path, modules: dict[str, torch.nn.Module]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        bf16 = module.to(torch.bfloat16)
        kwargs = {"max_shard_size": T5_SHARD_SIZE} if name == "text_encoder_3" else {}
        bf16.save_pretrained(folder / name, safe_serialization=True, **kwargs)
        module.to(torch.float32)
    write_tokenizers(folder)
    make_scheduler().save_pretrained(folder / "scheduler")
    (folder / "model_index.json").write_text(json.dumps(model_index(), indent=2, sort_keys=True) + "\n")


def write_transformer_variants(folder: Path, checkpoint: Path) -> None:
    """fp32 single file (the bf16 values widened, so every golden still holds) and bf16 sharded."""
    # Built from the config and the file's tensors (from_pretrained would record a local _name_or_path).
    model = SD3Transformer2DKontextModel(**TRANSFORMER)
    state = load_file(str(checkpoint / "transformer" / "diffusion_pytorch_model.safetensors"))
    model.load_state_dict({name: value.to(torch.float32) for name, value in state.items()}, strict=True)
    model.save_pretrained(folder / "transformer-fp32", safe_serialization=True)
    model.to(torch.bfloat16).save_pretrained(
        folder / "transformer-bf16-sharded", safe_serialization=True, max_shard_size=TRANSFORMER_SHARD_SIZE
    )


@dataclass
class LoadedModels:
    transformer: SD3Transformer2DKontextModel
    vae: AutoencoderKL
    encoders: Encoders
    encoders_no_t5: Encoders


def load_checkpoint(folder: Path) -> LoadedModels:
    f32 = dict(torch_dtype=torch.float32)
    transformer = SD3Transformer2DKontextModel.from_pretrained(folder / "transformer", **f32).eval()
    vae = AutoencoderKL.from_pretrained(folder / "vae", **f32).eval()
    clip_l = CLIPTextModelWithProjection.from_pretrained(folder / "text_encoder", attn_implementation="eager", **f32).eval()
    clip_g = CLIPTextModelWithProjection.from_pretrained(folder / "text_encoder_2", attn_implementation="eager", **f32).eval()
    t5 = T5EncoderModel.from_pretrained(folder / "text_encoder_3", **f32).eval()
    width = transformer.config.joint_attention_dim
    return LoadedModels(
        transformer=transformer,
        vae=vae,
        encoders=Encoders(clip_l=clip_l, clip_g=clip_g, t5=t5, joint_attention_dim=width),
        encoders_no_t5=Encoders(clip_l=clip_l, clip_g=clip_g, t5=None, joint_attention_dim=width),
    )


def library_versions() -> str:
    return f"torch {torch.__version__.split('+')[0]}, diffusers {diffusers.__version__}, transformers {transformers.__version__}"
