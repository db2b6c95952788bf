"""Times one Kontext transformer call in PyTorch eager (diffusers modules, CPU, float32) on the
weights of a `transformer/` folder, for the benchmark that compares the ONNX graph against PyTorch
on the same weights (issue: "one transformer step at 512², full widths, reduced depth").

    .venv/bin/python -m unipic2_reference.time_transformer_step --transformer DIR [--height 512]
        [--width 512] [--edit] [--batch 2] [--context 333] [--repeats 3] [--threads N]

Prints one JSON line: config summary, token counts, and the wall time of each repeat (ms) after
one warm-up call. Inputs are seeded N(0, 1); the output is not checked (goldens do that).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from .kontext_transformer import SD3Transformer2DKontextModel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transformer", type=Path, required=True)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--edit", action="store_true", help="also feed a reference latent (Kontext editing)")
    parser.add_argument("--batch", type=int, default=2, help="2 = CFG batch [negative, positive]")
    parser.add_argument("--context", type=int, default=333, help="text rows (333 with T5, 154 without)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model = SD3Transformer2DKontextModel.from_pretrained(args.transformer, torch_dtype=torch.float32).eval()
    config = model.config
    g = torch.Generator().manual_seed(0)
    h, w = args.height // 8, args.width // 8
    latent = torch.randn(args.batch, config.in_channels, h, w, generator=g)
    ref = torch.randn(args.batch, config.in_channels, h, w, generator=g) if args.edit else None
    context = torch.randn(args.batch, args.context, config.joint_attention_dim, generator=g)
    pooled = torch.randn(args.batch, config.pooled_projection_dim, generator=g)
    timestep = torch.full((args.batch,), 500.0)

    times = []
    with torch.no_grad():
        for i in range(args.repeats + 1):
            start = time.perf_counter()
            model(latent, context, pooled, timestep, ref_hidden_states=ref)
            if i:
                times.append((time.perf_counter() - start) * 1000)
    image_tokens = (h // config.patch_size) * (w // config.patch_size) * (2 if args.edit else 1)
    print(json.dumps({
        "layers": config.num_layers,
        "inner": config.num_attention_heads * config.attention_head_dim,
        "height": args.height, "width": args.width, "edit": args.edit, "batch": args.batch,
        "tokens": {"image": image_tokens, "context": args.context},
        "threads": torch.get_num_threads(), "torch": torch.__version__.split("+")[0],
        "ms": [round(t, 1) for t in times],
    }))


if __name__ == "__main__":
    main()
