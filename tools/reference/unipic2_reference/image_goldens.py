"""Goldens of the editing preprocessing (fix_longer_edge sizes, Pillow BICUBIC pixels) and of the
VAE (posterior, scaled reference latents, decoder stages, postprocess)."""
from __future__ import annotations

import numpy as np
from diffusers.image_processor import VaeImageProcessor
from PIL import Image

from .edit_preprocess import fix_longer_edge, fix_longer_edge_size, pixels_to_model_input
from .golden_store import GoldenStore
from .injected import STREAM_VAE_DECODE, STREAM_VAE_EPS, randn
from .tiny_config import REPOSITORY_ROOT, VAE_SCALING, VAE_SHIFT
from .vae_latents import decode, encode, postprocess, sample_latent, scale_latent

EDIT_SOURCE = REPOSITORY_ROOT / "test" / "fixtures" / "images" / "sources" / "rgb-300x200.png"
SIZE_CASES = [
    (1024, 800), (800, 1024), (1024, 1024), (1024, 816), (300, 200), (200, 300), (1500, 1000), (37, 61),
    (64, 48), (640, 480), (1920, 1080), (1080, 1920), (333, 777), (4000, 3000), (513, 512), (1000, 1), (1, 700),
    (1024, 864),  # 13.5 -> 14: half-even rounds up here
    # The float expression h * (512 / w) / 32 lands just below an exact .5 here (3.4999999…), so the
    # script gives 96 / 352 where exact arithmetic (or h * 512 / w / 32) gives 128 / 384.
    (1568, 343), (1568, 1127), (343, 1568),
]


def edit_image() -> Image.Image:
    """The edit runs' reference image: the source through fix_longer_edge(64, factor 16) -> 64x48."""
    return fix_longer_edge(Image.open(EDIT_SOURCE), image_size=64, factor=16)


def write_preprocess_goldens(store: GoldenStore) -> dict:
    cases = []
    for w, h in SIZE_CASES:
        W, H = fix_longer_edge_size(w, h)
        cases.append({"input": [w, h], "output": [W, H]})
    source = Image.open(EDIT_SOURCE)
    resized = fix_longer_edge(source)
    store.put("golden/preprocess.safetensors", "preprocess.rgb300x200.resized512", np.asarray(resized))
    tiny = fix_longer_edge(source, image_size=64, factor=16)
    store.put("golden/preprocess.safetensors", "preprocess.rgb300x200.resized64f16", np.asarray(tiny))
    return {"imageSize": 512, "factor": 32, "cases": cases, "source": EDIT_SOURCE.relative_to(REPOSITORY_ROOT).as_posix(),
            "resized512": list(resized.size), "resized64f16": list(tiny.size)}


def write_vae_goldens(store: GoldenStore, vae, edit_image: Image.Image) -> dict:
    scope = store.scope("golden/vae.safetensors", "vae.encode")
    pixels = scope.put("pixels", pixels_to_model_input(edit_image))
    posterior = encode(vae, pixels, record=lambda stage, value: scope.put(f"encoder.{stage}", value))
    scope.put("mean", posterior.mean)
    scope.put("logvar", posterior.logvar)
    scope.put("std", posterior.std)
    eps = scope.put("eps", randn(posterior.mean.shape, STREAM_VAE_EPS))
    latent_mean = scope.put("latent_mean", scale_latent(posterior.mean))
    latent_sample = scope.put("latent_sample", scale_latent(sample_latent(posterior, eps)))
    dec = store.scope("golden/vae.safetensors", "vae.decode")
    latent = dec.put("latent", randn((1, 16, 6, 8), STREAM_VAE_DECODE))
    dec.put("decoder_input", latent / VAE_SCALING + VAE_SHIFT)
    decoded = dec.put("decoded", decode(vae, latent, record=lambda stage, value: dec.put(f"decoder.{stage}", value)))
    pixels_out = postprocess(decoded)
    reference = np.stack([np.asarray(img) for img in VaeImageProcessor(vae_scale_factor=8).postprocess(decoded, output_type="pil")])
    if not np.array_equal(pixels_out, reference):
        raise AssertionError("postprocess differs from diffusers' VaeImageProcessor")
    dec.put("pixels", pixels_out)
    return {"latent_mean": latent_mean, "latent_sample": latent_sample,
            "posteriorStdRange": [posterior.std.min().item(), posterior.std.max().item()]}
