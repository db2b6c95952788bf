"""Metaquery generate/edit sampler goldens (the Kontext sampler behind `unipic2_mq_t2i.py` /
`unipic2_mq_editing.py`): the conditioner outputs
this oracle wrote (`test/fixtures/metaquery/golden.safetensors`: `t2i.*`, `edit.*`) drive the
SD3.5M-Kontext sampler of the Kontext oracle (`tools/reference/unipic2_reference`, reused, not copied)
on the tiny Kontext transformer and VAE (`test/fixtures/kontext/checkpoint/{transformer,vae,scheduler}`,
joint width 32 and pooled 24 = the tiny conditioner's outputs), with injected noise.

Run with the Kontext oracle's venv (it has diffusers; this folder's venv has transformers only):

    ../unipic2_reference/.venv/bin/python sampler_goldens.py

Writes `test/fixtures/metaquery/sampler.safetensors` and `sampler.json`. Deterministic.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from unipic2_reference.checkpoint_writer import load_checkpoint, library_versions  # noqa: E402
from unipic2_reference.edit_preprocess import fix_longer_edge, pixels_to_model_input  # noqa: E402
from unipic2_reference.golden_store import GoldenScope  # noqa: E402
from unipic2_reference.sampler import RunInputs, run_sampler  # noqa: E402
from unipic2_reference.vae_latents import encode, scale_latent  # noqa: E402

REPO = HERE.parents[2]
FIXTURES = REPO / "test" / "fixtures" / "metaquery"
KONTEXT_CHECKPOINT = REPO / "test" / "fixtures" / "kontext" / "checkpoint"
STEPS = 3
GUIDANCE = 3.5
SEED = 20261216
# The edit runs at the test image's own size (256 x 320, sides multiples of 32): fix_longer_edge with
# image_size 320 keeps it, and the VLM goldens (`edit.*`) saw it at 7/8 (224 x 280).
EDIT_IMAGE_SIZE, EDIT_FACTOR = 320, 32
T2I = {"height": 64, "width": 48}


class Scope(GoldenScope):
    """GoldenScope over a plain dict (the Kontext store writes its own files)."""

    def __init__(self, out: dict, prefix: str):
        self.out, self.prefix = out, prefix

    def put(self, name: str, value):
        tensor = torch.as_tensor(value).detach().clone().contiguous()
        self.out[f"{self.prefix}.{name}"] = tensor
        return tensor

    def child(self, suffix: str) -> "Scope":
        return Scope(self.out, f"{self.prefix}.{suffix}")


def randn(shape, stream: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(SEED * 1000 + stream), dtype=torch.float32)


def negative_positive(golden: dict, prefix: str):
    # The VLM goldens hold rows [prompt, negative]; the sampler batches [negative, positive].
    embeds, pooled = golden[f"{prefix}.prompt_embeds"], golden[f"{prefix}.pooled_prompt_embeds"]
    return torch.stack([embeds[1], embeds[0]]), torch.stack([pooled[1], pooled[0]])


def main() -> None:
    golden = load_file(str(FIXTURES / "golden.safetensors"))
    notes = json.loads((FIXTURES / "golden.json").read_text())
    models = load_checkpoint(KONTEXT_CHECKPOINT)
    out: dict[str, torch.Tensor] = {}
    runs = {}

    embeds, pooled = negative_positive(golden, "t2i")
    noise = randn((1, 16, T2I["height"] // 8, T2I["width"] // 8), 1)
    run_sampler(models.transformer, models.vae, RunInputs(noise, embeds, pooled, STEPS, GUIDANCE), Scope(out, "run.t2i"))
    out["run.t2i.prompt_embeds"] = embeds
    runs["t2i"] = {**T2I, "steps": STEPS, "guidance": GUIDANCE, "textRows": "golden.safetensors t2i.* (rows [prompt, negative]), batched [negative, positive]"}

    image = Image.open(FIXTURES / "image.png").convert("RGB")
    sized = fix_longer_edge(image, EDIT_IMAGE_SIZE, EDIT_FACTOR)
    if sized.size != image.size:
        raise AssertionError(f"the edit image should keep its size, got {sized.size}")
    posterior = encode(models.vae, pixels_to_model_input(sized))
    ref_latent = scale_latent(posterior.mean)
    embeds, pooled = negative_positive(golden, "edit")
    noise = randn(tuple(ref_latent.shape), 2)
    run_sampler(models.transformer, models.vae, RunInputs(noise, embeds, pooled, STEPS, GUIDANCE, ref_latent=ref_latent), Scope(out, "run.edit"))
    out["run.edit.prompt_embeds"] = embeds
    runs["edit"] = {"height": sized.height, "width": sized.width, "steps": STEPS, "guidance": GUIDANCE, "imageSize": EDIT_IMAGE_SIZE,
                    "factor": EDIT_FACTOR, "reference": "posterior mean", "textRows": "golden.safetensors edit.* (rows [prompt, negative]), batched [negative, positive]"}

    # Keep the fixture small: per-step velocities and the float decoder output are debugging aids; the tests use the uint8 pixels.
    keep = {k: v for k, v in out.items() if (".step" not in k or k.endswith("latent_out")) and not k.endswith(".decoded")}
    tensors = {k: (v.to(torch.float32) if v.is_floating_point() else v).contiguous() for k, v in sorted(keep.items())}
    save_file(tensors, str(FIXTURES / "sampler.safetensors"))
    digest = hashlib.sha256((FIXTURES / "sampler.safetensors").read_bytes()).hexdigest()
    meta = {
        "generator": "tools/reference/unipic2_mq_reference/sampler_goldens.py",
        "libraries": library_versions(),
        "transformerAndVae": "test/fixtures/kontext/checkpoint (transformer/, vae/, scheduler/)",
        "texts": {"t2i": notes["t2i.texts"], "edit": notes["edit.texts"]},
        "runs": runs,
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in tensors.items()},
        "sha256": digest,
    }
    (FIXTURES / "sampler.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(tensors)} tensors, sha256 {digest}")


if __name__ == "__main__":
    main()
