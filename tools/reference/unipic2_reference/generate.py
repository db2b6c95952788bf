"""Regenerates test/fixtures/kontext: the tiny UniPic-2 SD3.5M-Kontext checkpoint in the
published layout and every golden tensor. Deterministic: same code and seed -> same bytes.

    python -m unipic2_reference.generate [--out DIR]
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import diffusers
import numpy as np
import torch
import transformers

from .checkpoint_writer import build_random, library_versions, load_checkpoint, write_checkpoint, write_transformer_variants
from .golden_store import GoldenStore, describe
from .image_goldens import edit_image, write_preprocess_goldens, write_vae_goldens
from .run_goldens import assert_plain_forward_matches, write_runs
from .table_goldens import write_position_goldens, write_real_position_goldens, write_schedule_goldens, write_t5_position_goldens
from .text_encoding import Tokenizers
from .text_goldens import write_text_goldens, write_token_corpus
from .tiny_config import DEFAULT_OUT, SEED, VAE_SCALING, VAE_SHIFT


def quiet_libraries() -> None:
    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def make_deterministic() -> None:
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    random.seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out: Path = args.out
    quiet_libraries()
    make_deterministic()
    for generated in ("checkpoint", "checkpoint-variants", "golden"):
        shutil.rmtree(out / generated, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)

    store = GoldenStore(out)
    write_schedule_goldens(store)
    modules = build_random(SEED)
    write_checkpoint(out / "checkpoint", modules)
    write_transformer_variants(out / "checkpoint-variants", out / "checkpoint")
    models = load_checkpoint(out / "checkpoint")
    tokenizers = Tokenizers.load(out / "checkpoint")

    sizes = [(4, 3), (2, 2), (3, 4)]
    position = write_position_goldens(store, models.transformer, sizes)
    write_real_position_goldens(store, [(2, 2), (3, 4)])
    tokens_path = write_token_corpus(out, tokenizers)
    encodings = write_text_goldens(store, tokenizers, models)
    write_t5_position_goldens(store, models)
    preprocess = write_preprocess_goldens(store)
    vae_out = write_vae_goldens(store, models.vae, edit_image())
    assert_plain_forward_matches(models, encodings)
    runs = write_runs(store, models, encodings, vae_out)

    other = [tokens_path] + sorted(p for p in (out / "checkpoint").rglob("*") if p.is_file()) + sorted(
        p for p in (out / "checkpoint-variants").rglob("*") if p.is_file())
    store.write(
        {
            "format": 1,
            "family": "unipic2-kontext",
            "generator": f"tools/reference/unipic2_reference ({library_versions()})",
            "seed": SEED,
            "tolerances": {
                "float32": "max|a-e| <= 1e-4 * max(1, max|e|) per tensor",
                "float64": "1e-12 relative",
                "int64": "exact",
                "uint8 pixels": "equal or off by one",
                "token ids": "exact",
            },
            "position": {**position, "sizes": [list(s) for s in sizes]},
            "preprocess": preprocess,
            "vae": {"scalingFactor": VAE_SCALING, "shiftFactor": VAE_SHIFT, "posteriorStdRange": vae_out["posteriorStdRange"]},
            "runs": runs,
        },
        other,
    )
    total = sum(describe(p)["bytes"] for p in out.rglob("*") if p.is_file())
    print(f"wrote {len(store.tensors)} golden tensors and the checkpoint to {out} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
