"""Times one MAR iteration of the PyTorch oracle (tools/reference) in eager mode, fp32, on the
weights and inputs the TypeScript benchmark wrote, and writes the decoder output `z` and the
sampled tokens back so the benchmark can check both sides computed the same iteration.

    python mar_iteration.py <work dir>     (reads structure.json, weights.safetensors,
                                            inputs.safetensors, settings.json; writes
                                            torch-z.f32, torch-tokens.f32)

It serves runs on request so the benchmark can alternate it with its own runs (load on a shared
machine swings by several times within minutes): it prints `ready {json}` once loaded, then for
each `run` line on stdin one iteration and a `timings {json}` line (ms per part); `quit` writes
the outputs and exits.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from safetensors.torch import load_file

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY_ROOT / "tools" / "reference"))

from unipic_reference.diffusion_schedule import build_tables  # noqa: E402
from unipic_reference.qwen_llm import run_llm_body  # noqa: E402
from unipic_reference.tiny_config import TinyConfig  # noqa: E402
from unipic_reference.token_sampler import TokenNoise, sample_tokens  # noqa: E402
from unipic_reference.unipic_model import UniPicReference  # noqa: E402


def main(work: Path) -> None:
    structure = json.loads((work / "structure.json").read_text())
    settings = json.loads((work / "settings.json").read_text())
    torch.set_num_threads(settings["threads"])
    config = TinyConfig(
        llm=structure["llm"], mar=structure["mar"], diffloss=structure["diffloss"], vae=structure["vae"],
        resolutions=tuple(structure["resolutions"]), seed=0,
    )
    model = UniPicReference(config).eval()
    weights = load_file(str(work / "weights.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected:
        raise SystemExit(f"unexpected weights: {unexpected[:5]}")
    loaded = set(weights)
    needed = [k for k in model.state_dict() if k.startswith(("llm.model.layers.", "llm.model.norm.", "mar.", "proj_in.", "proj_out."))]
    absent = [k for k in needed if k not in loaded and not k.startswith("mar.class_emb")]
    if absent:
        raise SystemExit(f"weights missing for the iteration: {absent[:5]}")
    del weights

    inputs = load_file(str(work / "inputs.safetensors"))
    layers = structure["llm"]["num_hidden_layers"]
    past = tuple((inputs[f"past.{i}.key"], inputs[f"past.{i}.value"]) for i in range(layers))
    tables = SimpleNamespace(decoder_pos=inputs["decoder_pos"], diffusion_pos=inputs["diffusion_pos"])
    schedule = build_tables(structure["diffloss"]["num_timesteps"], int(structure["diffloss"]["num_sampling_steps"]), structure["diffloss"]["max_beta"])
    noise = TokenNoise(start=inputs["noise_start"], steps=inputs["noise_steps"])
    positions = inputs["predicted_positions"].long()  # [G, count], raster order
    rows = inputs["latents"].shape[0]
    images = rows // 2

    timings: dict[str, list[float]] = {"encoder": [], "llm": [], "decoder": [], "head": [], "total": []}
    outputs = {}

    @torch.no_grad()
    def iteration() -> None:
        started = time.perf_counter()
        x_enc = model.mar.encode_known(inputs["latents"], inputs["pos_embed"])
        llm_in = model.llm_input(x_enc)
        t1 = time.perf_counter()
        llm_out, _ = run_llm_body(model.llm, llm_in, inputs["attention_mask"].long(), inputs["position_ids"].long(), past)
        t2 = time.perf_counter()
        refined = model.with_llm_residual(x_enc, llm_out)
        z = model.mar.decode_scattered(refined, inputs["scatter_idx"].long(), inputs["fill"], tables)
        t3 = time.perf_counter()
        # Conditions row-major: every cond row's positions, then every uncond row's.
        conditions = torch.cat([z[half * images + row, positions[row]] for half in (0, 1) for row in range(images)])
        tokens = sample_tokens(model.mar.diffloss.net, schedule, conditions, noise, settings["temperature"], torch.tensor(settings["guidance"], dtype=torch.float32))
        t4 = time.perf_counter()
        for name, value in (("encoder", t1 - started), ("llm", t2 - t1), ("decoder", t3 - t2), ("head", t4 - t3), ("total", t4 - started)):
            timings[name].append(value * 1000)
        outputs["z"] = z.contiguous()
        outputs["tokens"] = tokens.contiguous()

    print("ready " + json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "run":
            for values in timings.values():
                values.clear()
            iteration()
            print("timings " + json.dumps({key: values[0] for key, values in timings.items()}), flush=True)
        elif command == "quit":
            break
    # Raw little-endian float32: all the TypeScript side needs to compare.
    for name, value in outputs.items():
        (work / f"torch-{name}.f32").write_bytes(value.to(torch.float32).numpy().tobytes())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
