"""How much float32 rounding moves each golden: reruns sampler runs in float64 with the same
weights, orders and noise and prints max|fp32 − fp64| / max(1, max|fp64|) per stage. This is the
evidence behind the tolerances in test/fixtures/reference/README.md; it writes no fixture.

    python -m unipic_reference.precision_check [--fixtures DIR]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import torch
from safetensors.torch import load_file

from .diffusion_schedule import build_tables
from .generate import DEFAULT_OUT, make_deterministic, reload_from_files
from .golden_store import GoldenStore
from .mar_sampler import SamplerSettings
from .position_tables import build_position_tables
from .prompts import load_tokenizer
from .run_goldens import write_generation_run
from .synthetic_images import scene
from .tiny_config import load_tiny_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_OUT)
    fixtures: Path = parser.parse_args().fixtures
    config = load_tiny_config()
    make_deterministic(config.seed)
    index = json.loads((fixtures / "index.json").read_text())
    model, vae = reload_from_files(config, fixtures / "checkpoint")
    model, vae = model.double(), vae.double()
    schedule = build_tables(config.diffloss["num_timesteps"], int(config.diffloss["num_sampling_steps"]), config.diffloss["max_beta"])
    tokenizer = load_tokenizer()
    worst: dict[str, float] = defaultdict(float)
    pixel_steps: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        store = GoldenStore(Path(scratch))
        for name, run in index["runs"].items():
            if run["kind"] == "understanding":
                continue
            s = run["settings"]
            settings = SamplerSettings(s["imageSize"], s["numIter"], s["cfg"], s["cfgSchedule"], s["temperature"], s["numImages"])
            tables = build_position_tables(model.mar, config.grid_for(settings.image_size), torch.float64)
            image = scene(64) if run["kind"] == "edit" else None
            # Orders and noise are drawn from the run's seed in float32 and only then widened,
            # so the float64 run sees exactly the fixtures' values.
            write_generation_run(store, name, model, vae, tokenizer, schedule, tables, settings, run["prompt"], run["seed"], image)
            expected = load_file(str(fixtures / run["file"]))
            for key, reference in expected.items():
                if key not in store.tensors:
                    continue
                value = store.files[store.tensors[key]["file"]][key]
                if key.endswith(".pixels") and reference.dtype == torch.uint8:
                    pixel_steps[name] = int((reference.int() - value.int()).abs().max())
                    continue
                if not reference.is_floating_point():
                    if not torch.equal(reference, value):
                        raise AssertionError(f"{key}: integer tensor differs between float32 and float64 runs")
                    continue
                scale = max(1.0, float(value.abs().max())) if value.numel() else 1.0
                error = float((reference.double() - value).abs().max()) / scale if value.numel() else 0.0
                stage = key.split(".", 1)[1]
                stage = stage.split(".", 2)[-1] if stage.startswith("iter.") else stage
                worst[f"{name}:{stage}"] = max(worst[f"{name}:{stage}"], error)
    for key in sorted(worst):
        print(f"{key:48s} {worst[key]:.2e}")
    for name, steps in pixel_steps.items():
        print(f"{name}: uint8 pixels differ by at most {steps}")


if __name__ == "__main__":
    main()
