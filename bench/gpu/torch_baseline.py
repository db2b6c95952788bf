"""PyTorch baseline of the GPU check (docs/performance.md, "GPU check"): the oracle's modules
(tools/reference/unipic_reference, copied into the check's folder) in eager mode at bf16 or fp16,
on the device the check measures, timing the same computations as the ONNX rows:

- decode tok/s: greedy decoding with a KV cache after a prefill as long as the SDK's understand
  prompt at 512 px (text + 1024 image rows), tokens per second after the first, never stopping at EOS;
- one MAR iteration at 512² and 1024² (`num_iter` 1: encoder, LLM, decoder and the 100-step
  diffusion sampler for every token, guided), without the VAE decode;
- the VAE decode at 1024²;
- a whole 512² image (`--steps` iterations, VAE decode included).

Weights are the modules' own random initialisation, created on the device (timing does not
depend on the values; reading the 10 GB synthetic checkpoint would cost minutes of the budget).

    python torch_baseline.py --structure structure.json --device cuda --dtype bf16 [--steps 64] [--tokens 32]

Prints one line: `torch-baseline {json}` (milliseconds; `error` instead when a part failed).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unipic_reference.diffusion_schedule import build_tables  # noqa: E402
from unipic_reference.kl_vae import KlVae  # noqa: E402
from unipic_reference.mar_sampler import SamplerSettings, run_mar_sampler  # noqa: E402
from unipic_reference.position_tables import build_position_tables  # noqa: E402
from unipic_reference.qwen_llm import run_llm_body  # noqa: E402
from unipic_reference.tiny_config import TinyConfig  # noqa: E402
from unipic_reference.unipic_model import UniPicReference  # noqa: E402

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
PROMPT_TEXT_TOKENS = 40  # the SDK's chat template around one short question or prompt


class NoRecord:
    """The sampler records every stage for goldens; the baseline keeps nothing."""

    def put(self, _name, value):
        return value

    def child(self, _suffix):
        return self


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(device: str, body) -> float:
    synchronize(device)
    started = time.perf_counter()
    body()
    synchronize(device)
    return (time.perf_counter() - started) * 1000


@torch.no_grad()
def decode_rate(model, prefill: int, tokens: int, device: str, dtype) -> float:
    hidden_size = model.llm.config.hidden_size
    embeds = torch.randn(1, prefill, hidden_size, dtype=dtype) * 0.02
    hidden, past = run_llm_body(model.llm, embeds, None, None, None)
    token = int(torch.argmax(model.lm_head(hidden[:, -1])[0]))
    synchronize(device)
    started = time.perf_counter()
    for _ in range(tokens - 1):
        step = model.embed(torch.tensor([[token]]))
        total = past[0][0].shape[2] + 1
        hidden, past = run_llm_body(model.llm, step, torch.ones(1, total, dtype=torch.int64), torch.tensor([[total - 1]]), past)
        token = int(torch.argmax(model.lm_head(hidden[:, -1])[0]))  # the host reads each token, as a chat loop does
    synchronize(device)
    return (tokens - 1) / (time.perf_counter() - started)


@torch.no_grad()
def generation(model, vae, schedule, config: TinyConfig, size: int, iterations: int, device: str, dtype) -> tuple[float, float]:
    """(ms of the sampler without the VAE decode, ms of the VAE decode) for one guided image."""
    grid = config.grid_for(size)
    tables = build_position_tables(model.mar, grid).to(dtype)
    rows = 2  # cond + uncond
    prefix = torch.randn(rows, PROMPT_TEXT_TOKENS, model.llm.config.hidden_size, dtype=dtype) * 0.02
    prefix_mask = torch.ones(rows, PROMPT_TEXT_TOKENS, dtype=torch.int64)
    orders = torch.stack([torch.randperm(grid * grid)])
    settings = SamplerSettings(size, iterations, 3.0, "constant", 1.0, 1)
    decode_ms = []
    original = vae.decode_tokens

    def timed_decode(latents):
        out = {}
        decode_ms.append(timed(device, lambda: out.setdefault("x", original(latents))))
        return out["x"]

    vae.decode_tokens = timed_decode
    try:
        total = timed(
            device,
            lambda: run_mar_sampler(
                model, vae, schedule, tables, settings, prefix, prefix_mask, orders, torch.Generator(device=device).manual_seed(1), NoRecord()
            ),
        )
    finally:
        vae.decode_tokens = original
    return total - decode_ms[0], decode_ms[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--structure", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "cuda" and torch.cuda.is_available() else "cpu"
    dtype = DTYPES[args.dtype]
    raw = json.loads(args.structure.read_text())
    config = TinyConfig(llm=raw["llm"], mar=raw["mar"], diffloss=raw["diffloss"], vae=raw["vae"], resolutions=(512, 1024), seed=0)
    result: dict = {"torch": torch.__version__.split("+")[0], "device": device, "dtype": args.dtype}
    if device == "cuda":
        result["gpu"] = torch.cuda.get_device_name(0)
    torch.set_default_device(device)
    started = time.perf_counter()
    model = UniPicReference(config).to(dtype).eval()
    vae = KlVae(config.vae).to(dtype).eval()
    schedule = build_tables(config.diffloss["num_timesteps"], int(config.diffloss["num_sampling_steps"]), config.diffloss["max_beta"])
    result["loadMs"] = (time.perf_counter() - started) * 1000
    parts = [
        ("decodeTokensPerSecond", lambda: decode_rate(model, PROMPT_TEXT_TOKENS + config.grid_for(512) ** 2, args.tokens, device, dtype)),
        ("iteration512", lambda: generation(model, vae, schedule, config, 512, 1, device, dtype)),
        ("iteration1024", lambda: generation(model, vae, schedule, config, 1024, 1, device, dtype)),
        ("image512", lambda: generation(model, vae, schedule, config, 512, args.steps, device, dtype)),
    ]
    for name, part in parts:
        try:
            result[name] = part()
        except Exception as error:  # a part that fails (out of memory, an op missing for the dtype) is reported, not fatal
            result[name] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        print(f"torch-baseline progress {name}", file=sys.stderr, flush=True)
    if device == "cuda":
        result["peakAllocatedMiB"] = torch.cuda.max_memory_allocated() / 2**20
    print("torch-baseline " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
