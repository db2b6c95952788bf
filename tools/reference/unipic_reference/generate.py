"""Regenerates test/fixtures/reference: the tiny checkpoint in the official formats and every
golden tensor. Deterministic: same config and seed -> same bytes (see check-determinism.sh).

    python -m unipic_reference.generate [--out DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
import timm
import transformers

from .checkpoint_io import GENERATION_CONFIG, write_bf16_checkpoint, write_odd_checkpoint, write_unipic_checkpoint
from .component_goldens import write_diffusion_goldens, write_llm_and_mar_goldens, write_table_goldens, write_vae_goldens
from .diffusion_schedule import build_tables, verify_against_appendix_a
from .golden_store import GoldenStore
from .kl_vae import KlVae
from .mar_sampler import SamplerSettings
from .mask_schedule import token_count_table, verify_against_spec
from .position_tables import build_position_tables
from .prompts import load_tokenizer
from .random_init import initialise, initialise_mar_tables, make_head_denoise_like
from .run_goldens import write_generation_run, write_understanding_run
from .synthetic_images import scene
from .tiny_config import REPOSITORY_ROOT, TINY_CONFIG_PATH, load_tiny_config
from .unipic_model import UniPicReference
from .variant_goldens import FOLDER as VARIANT_FOLDER, describe_variant, write_variant

DEFAULT_OUT = REPOSITORY_ROOT / "test" / "fixtures" / "reference"
# Separate streams so that adding a golden never changes the weights or another run's noise.
STREAM_MODEL, STREAM_VAE, STREAM_ODD, STREAM_COMPONENTS = 0, 1, 2, 3


def make_deterministic(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def generator(seed: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1000 + stream)


def build_weights(config):
    model = UniPicReference(config)
    initialise(model, generator(config.seed, STREAM_MODEL))
    initialise_mar_tables(model.mar, generator(config.seed, STREAM_MODEL + 100))
    make_head_denoise_like(model.mar.diffloss.net, generator(config.seed, STREAM_MODEL + 200))
    vae = KlVae(config.vae)
    initialise(vae, generator(config.seed, STREAM_VAE))
    return model.eval(), vae.eval()


def reload_from_files(config, folder: Path):
    """Goldens come from the weights as read back from the written files, not the in-memory
    modules, so they are exactly what a converter reading those files sees."""
    model, vae = UniPicReference(config), KlVae(config.vae)
    state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    vae.load_state_dict(torch.load(folder / "kl16.ckpt", map_location="cpu", weights_only=True)["model"], strict=True)
    if model.llm.lm_head.weight.data_ptr() != model.llm.model.embed_tokens.weight.data_ptr():
        raise AssertionError("lm_head must stay tied to embed_tokens")
    return model.eval(), vae.eval()


def write_schedule_goldens(store: GoldenStore, schedule) -> None:
    for name, values in schedule.as_float64_dict().items():
        store.put("golden/schedule.safetensors", f"schedule.{name}", values)
    for tokens, iterations in [(1024, 32), (1024, 64), (4096, 32), (4096, 64), (16, 4), (64, 4)]:
        store.put("golden/schedule.safetensors", f"token_counts.n{tokens}_iter{iterations}", token_count_table(tokens, iterations))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    out: Path = parser.parse_args().out
    config = load_tiny_config()
    make_deterministic(config.seed)
    for stale in ("checkpoint", "checkpoint-bf16", "checkpoint-odd", VARIANT_FOLDER, "golden", "index.json"):
        target = out / stale
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)

    schedule = build_tables(config.diffloss["num_timesteps"], int(config.diffloss["num_sampling_steps"]), config.diffloss["max_beta"])
    verify_against_appendix_a(schedule)
    verify_against_spec()

    model, vae = build_weights(config)
    structure = {key: value for key, value in json.loads(TINY_CONFIG_PATH.read_text()).items() if not key.startswith("_")}
    write_unipic_checkpoint(model, vae, out / "checkpoint", config.llm, structure)
    write_bf16_checkpoint(model, out / "checkpoint-bf16")
    write_odd_checkpoint(generator(config.seed, STREAM_ODD), out / "checkpoint-odd")
    model, vae = reload_from_files(config, out / "checkpoint")

    tokenizer = load_tokenizer()
    tables = {size: build_position_tables(model.mar, config.grid_for(size)) for size in config.resolutions}
    store = GoldenStore(out)
    components = generator(config.seed, STREAM_COMPONENTS)
    write_schedule_goldens(store, schedule)
    write_table_goldens(store, tables)
    write_vae_goldens(store, vae, components)
    write_llm_and_mar_goldens(store, model, tokenizer, tables[64], components)
    write_diffusion_goldens(store, model, schedule, components)

    def settings(size=64, cfg=3.0, schedule_name="constant", temperature=1.0, images=1):
        return SamplerSettings(size, 4, cfg, schedule_name, temperature, images)

    fox = "a red fox sitting in fresh snow"
    runs = [
        ("t2i_64", settings(), fox, 11, None),
        ("t2i_128", settings(size=128), "a lighthouse on a cliff at dusk", 12, None),
        ("t2i_64_linear", settings(schedule_name="linear"), fox, 13, None),
        ("t2i_64_cfg1", settings(cfg=1.0), fox, 14, None),
        ("t2i_64_two_images", settings(images=2), "two paper cranes", 15, None),
        ("edit_64", settings(temperature=0.85), "Make the sky purple.", 16, scene(64)),
    ]
    for name, run_settings, prompt, seed, image in runs:
        write_generation_run(store, name, model, vae, tokenizer, schedule, tables[run_settings.image_size], run_settings, prompt, seed, image)
    generation_config = json.loads(GENERATION_CONFIG.read_text())
    write_understanding_run(store, "understand_64", model, vae, tokenizer, tables[64], "Describe the image in detail.", 8, generation_config)
    write_variant(out, store, tokenizer, schedule)

    checkpoint_files = [p for folder in ("checkpoint", "checkpoint-bf16", "checkpoint-odd", VARIANT_FOLDER) for p in (out / folder).rglob("*") if p.is_file()]
    store.write(
        {
            "format": 1,
            "generator": f"tools/reference (torch {torch.__version__.split('+')[0]}, transformers {transformers.__version__}, timm {timm.__version__})",
            "config": {"path": str(TINY_CONFIG_PATH.relative_to(REPOSITORY_ROOT)), "sha256": hashlib.sha256(TINY_CONFIG_PATH.read_bytes()).hexdigest()},
            "tolerances": {
                "float32RelativeToMaxAbs": 1e-4,
                "pixelsMaxAbsDifference": 1,
                "note": "compare |a-b| <= 1e-4 * max(1, max|expected|) per tensor; uint8 pixels equal or off by one; see README",
            },
            "variants": describe_variant(),
        },
        checkpoint_files,
    )


if __name__ == "__main__":
    main()
