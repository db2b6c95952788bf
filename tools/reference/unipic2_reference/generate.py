"""Regenerates test/fixtures/kontext: the tiny UniPic-2 SD3.5M-Kontext checkpoint in the
published layout and every golden tensor. Deterministic: same code and seed -> same bytes.

    python -m unipic2_reference.generate [--out DIR]
"""
from __future__ import annotations

import argparse
import math
import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from diffusers import SD3Transformer2DModel
from diffusers.image_processor import VaeImageProcessor
from diffusers.models.embeddings import get_1d_sincos_pos_embed_from_grid, get_2d_sincos_pos_embed, get_timestep_embedding
from PIL import Image

from . import prompts
from .checkpoint_writer import build_random, library_versions, load_checkpoint, write_checkpoint, write_transformer_variants
from .edit_preprocess import fix_longer_edge, fix_longer_edge_size, pixels_to_model_input
from .flow_schedule import assert_matches_diffusers, assert_spec_values, sigma_table
from .golden_store import GoldenStore, describe
from .position_table import axis_embedding, crop, grid_coordinates, round_to_bf16, table_for
from .sampler import RunInputs, run_sampler
from .text_encoding import Tokenizers, clip_ids, encode_prompt, t5_ids
from .tiny_config import DEFAULT_OUT, GUIDANCE_SCALE, T5_MAX_LENGTH, REPOSITORY_ROOT, SEED, TINY_STEPS, TRANSFORMER, VAE_SCALING, VAE_SHIFT
from .vae_latents import decode, encode, postprocess, sample_latent, scale_latent

EDIT_SOURCE = REPOSITORY_ROOT / "test" / "fixtures" / "images" / "sources" / "rgb-300x200.png"
# Separate input streams so that adding a golden never changes another one's inputs.
STREAM_T2I_64x48, STREAM_T2I_32, STREAM_EDIT, STREAM_VAE_EPS, STREAM_VAE_DECODE, STREAM_T2I_NO_T5 = 10, 11, 12, 13, 14, 15
SIZE_CASES = [
    (1024, 800), (800, 1024), (1024, 1024), (1024, 816), (300, 200), (200, 300), (1500, 1000), (37, 61),
    (64, 48), (640, 480), (1920, 1080), (1080, 1920), (333, 777), (4000, 3000), (513, 512), (1000, 1), (1, 700),
    (1024, 864),  # 13.5 -> 14: half-even rounds up here
    # The float expression h * (512 / w) / 32 lands just below an exact .5 here (3.4999999…), so the
    # script gives 96 / 352 where exact arithmetic (or h * 512 / w / 32) gives 128 / 384.
    (1568, 343), (1568, 1127), (343, 1568),
]


def make_deterministic() -> None:
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    random.seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def randn(shape, stream: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(SEED * 1000 + stream), dtype=torch.float32)


def write_schedule_goldens(store: GoldenStore) -> None:
    assert_spec_values()
    for steps in (50, 28, TINY_STEPS):
        assert_matches_diffusers(steps)
        sigmas, timesteps = sigma_table(steps)
        store.put("golden/schedule.safetensors", f"schedule.n{steps}.sigmas", sigmas)
        store.put("golden/schedule.safetensors", f"schedule.n{steps}.timesteps", timesteps)
        if steps != 28:
            # Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0): [cos(t f), sin(t f)], float32.
            store.put("golden/schedule.safetensors", f"schedule.n{steps}.time_proj",
                      get_timestep_embedding(torch.from_numpy(timesteps), 256, flip_sin_to_cos=True, downscale_freq_shift=0))
    half = 128
    exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32) / half
    store.put("golden/schedule.safetensors", "schedule.time_proj_freqs", torch.exp(exponent))


def write_position_goldens(store: GoldenStore, loaded_transformer, sizes) -> dict:
    table64, grid = table_for(TRANSFORMER)
    patch = loaded_transformer.pos_embed
    # What PatchEmbed registers as its buffer (float32), before the bf16 save rounds it.
    fresh = get_2d_sincos_pos_embed(patch.pos_embed.shape[-1], grid, base_size=patch.base_size,
                                    interpolation_scale=patch.interpolation_scale, output_type="pt").float()
    mine32 = torch.from_numpy(table64.astype(np.float32))
    ulps = ((fresh - mine32).abs() / torch.finfo(torch.float32).eps / fresh.abs().clamp_min(1e-30)).max().item()
    if not torch.allclose(fresh, mine32, rtol=0, atol=1e-6):
        raise AssertionError("diffusers' position table differs from the spec formula")
    stored = loaded_transformer.pos_embed.pos_embed[0]
    if not torch.equal(round_to_bf16(mine32), stored):
        raise AssertionError("bf16-rounded spec table differs from the checkpoint's pos_embed.pos_embed")
    for hp, wp in sizes:
        scope = store.scope("golden/position.safetensors", f"pos.h{hp}w{wp}")
        c64 = crop(table64, grid, hp, wp)
        scope.put("float64", c64)
        scope.put("float32", c64.astype(np.float32))
        scope.put("bf16", round_to_bf16(torch.from_numpy(c64.astype(np.float32))))
    return {"grid": grid, "maxRelDiffDiffusersVsSpecFloat32Ulps": ulps}


REAL_POSITION = dict(grid=384, base=64, dim=1536)  # SD3.5 Medium: sample_size 128, patch 2, max size 384


def write_real_position_goldens(store: GoldenStore, sizes) -> None:
    """Crops of the real model's table (never built whole: 906 MB). diffusers' 1-D function is run
    on the crop's own float32 coordinates, which is what its full-table path does row by row."""
    grid, base, dim = REAL_POSITION["grid"], REAL_POSITION["base"], REAL_POSITION["dim"]
    coords = grid_coordinates(grid, base)
    for hp, wp in sizes:
        top, left = (grid - hp) // 2, (grid - wp) // 2
        ys, xs = np.meshgrid(coords[top : top + hp], coords[left : left + wp], indexing="ij")
        mine = np.concatenate([axis_embedding(dim // 2, xs.reshape(-1)), axis_embedding(dim // 2, ys.reshape(-1))], axis=1)
        theirs = torch.cat([get_1d_sincos_pos_embed_from_grid(dim // 2, torch.from_numpy(xs.reshape(-1)), output_type="pt"),
                            get_1d_sincos_pos_embed_from_grid(dim // 2, torch.from_numpy(ys.reshape(-1)), output_type="pt")], dim=1)
        if not torch.equal(torch.from_numpy(mine.astype(np.float32)), theirs.float()):
            raise AssertionError("real-size position crop differs from diffusers")
        scope = store.scope("golden/position.safetensors", f"pos_real.h{hp}w{wp}")
        scope.put("float32", mine.astype(np.float32))
        scope.put("bf16", round_to_bf16(torch.from_numpy(mine.astype(np.float32))))


def write_token_corpus(out: Path, tokenizers: Tokenizers) -> Path:
    entries = []
    for text in prompts.CORPUS:
        entry = {
            "text": text,
            "clip_l": clip_ids(tokenizers.clip_l, text),
            "clip_g": clip_ids(tokenizers.clip_g, text),
            "t5": t5_ids(tokenizers.t5, text),
            "clip_l_unpadded": tokenizers.clip_l(text).input_ids,
            "t5_unpadded": tokenizers.t5(text).input_ids,
            "clip_l_fast": clip_ids(tokenizers.clip_l_fast, text),
            "clip_g_fast": clip_ids(tokenizers.clip_g_fast, text),
        }
        entry["fast_differs"] = entry["clip_l_fast"] != entry["clip_l"] or entry["clip_g_fast"] != entry["clip_g"]
        entries.append(entry)
    path = out / "tokens.json"
    path.write_text(json.dumps({"format": 1, "corpus": entries}, ensure_ascii=False) + "\n")
    return path


def put_encoding(scope, enc) -> None:
    for name in ("ids_clip_l", "ids_clip_g", "ids_t5", "clip_l_hidden", "clip_l_pooled", "clip_g_hidden",
                 "clip_g_pooled", "t5_hidden", "prompt_embeds", "pooled"):
        value = getattr(enc, name)
        if value is not None:
            scope.put(name, value)


def write_text_goldens(store: GoldenStore, tokenizers: Tokenizers, models) -> dict:
    encodings = {}
    for key, text in prompts.TEXT_GOLDENS.items():
        enc = encode_prompt(text, tokenizers, models.encoders)
        put_encoding(store.scope("golden/text.safetensors", f"text.{key}"), enc)
        encodings[key] = enc
        if key in prompts.NO_T5_GOLDENS:
            no_t5 = encode_prompt(text, tokenizers, models.encoders_no_t5)
            put_encoding(store.scope("golden/text.safetensors", f"text.{key}_no_t5"), no_t5)
            encodings[f"{key}_no_t5"] = no_t5
    return encodings


@torch.no_grad()
def write_t5_position_goldens(store: GoldenStore, models) -> None:
    """Bucket of every relative position key - query in [-255, 255] (encoder: bidirectional) and
    the layer-0 bias table gathered for them, [heads, 511]."""
    attention = models.encoders.t5.encoder.block[0].layer[0].SelfAttention
    relative = torch.arange(-(T5_MAX_LENGTH - 1), T5_MAX_LENGTH, dtype=torch.int64)
    buckets = attention._relative_position_bucket(relative, bidirectional=True, num_buckets=attention.relative_attention_num_buckets,
                                                  max_distance=attention.relative_attention_max_distance)
    store.put("golden/text.safetensors", "t5.relative_position", relative)
    store.put("golden/text.safetensors", "t5.relative_bucket", buckets)
    store.put("golden/text.safetensors", "t5.relative_bias", attention.relative_attention_bias(buckets).T)
    full = attention.compute_bias(T5_MAX_LENGTH, T5_MAX_LENGTH)  # [1, heads, q, k]
    if not torch.equal(full[0, :, 0, :], attention.relative_attention_bias(buckets[T5_MAX_LENGTH - 1 :]).T):
        raise AssertionError("T5 bias layout: bias[h, q, k] = table[bucket(k - q), h]")


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


@torch.no_grad()
def assert_plain_forward_matches(models, enc) -> None:
    """Without a reference latent the Kontext forward must be diffusers' own SD3 forward."""
    embeds, pooled = pair(enc["empty"], enc["t2i_prompt"])
    latent = torch.cat([randn((1, 16, 8, 6), 99)] * 2)
    t = torch.tensor([751.1211, 751.1211])
    mine = models.transformer(latent, embeds, pooled, t)[0]
    theirs = SD3Transformer2DModel.forward(models.transformer, latent, embeds, pooled, t, return_dict=False)[0]
    if not torch.equal(mine, theirs):
        raise AssertionError(f"Kontext forward without ref != diffusers SD3 forward ({(mine - theirs).abs().max()})")


def pair(negative, positive):
    return torch.cat([negative.prompt_embeds, positive.prompt_embeds]), torch.cat([negative.pooled, positive.pooled])


def write_runs(store: GoldenStore, models, enc, vae_out) -> dict:
    runs = {}

    def run(name, height, width, stream, negative, positive, ref_latent=None, prompt=None, negative_text=None, extra=None, blocks=False):
        embeds, pooled = pair(enc[negative], enc[positive])
        noise = randn((1, 16, height // 8, width // 8), stream)
        inputs = RunInputs(noise=noise, prompt_embeds=embeds, pooled=pooled, steps=TINY_STEPS, guidance=GUIDANCE_SCALE, ref_latent=ref_latent)
        run_sampler(models.transformer, models.vae, inputs, store.scope(f"golden/run_{name}.safetensors", f"run.{name}"),
                    record_blocks_at=(0,) if blocks else ())
        runs[name] = {"height": height, "width": width, "steps": TINY_STEPS, "guidance": GUIDANCE_SCALE,
                      "prompt": prompt, "negativePrompt": negative_text, "batchOrder": ["negative", "positive"],
                      "textGoldens": {"negative": f"text.{negative}", "positive": f"text.{positive}"},
                      "stagesRecordedForStep0": blocks, **(extra or {})}

    run("t2i_h64w48", 64, 48, STREAM_T2I_64x48, "empty", "t2i_prompt", prompt=prompts.T2I_PROMPT, negative_text=prompts.T2I_NEGATIVE, blocks=True)
    run("t2i_h32w32", 32, 32, STREAM_T2I_32, "empty", "t2i_prompt", prompt=prompts.T2I_PROMPT, negative_text=prompts.T2I_NEGATIVE)
    run("t2i_h32w32_no_t5", 32, 32, STREAM_T2I_NO_T5, "empty_no_t5", "t2i_prompt_no_t5", prompt=prompts.T2I_PROMPT,
        negative_text=prompts.T2I_NEGATIVE, extra={"t5": False})
    run("edit_h48w64", 48, 64, STREAM_EDIT, "edit_negative", "edit_prompt", ref_latent=vae_out["latent_mean"],
        prompt=prompts.EDIT_PROMPT, negative_text=prompts.EDIT_NEGATIVE, extra={"reference": "posterior mean (vae.encode.latent_mean)"},
        blocks=True)
    run("edit_h48w64_sampled", 48, 64, STREAM_EDIT, "edit_negative", "edit_prompt", ref_latent=vae_out["latent_sample"],
        prompt=prompts.EDIT_PROMPT, negative_text=prompts.EDIT_NEGATIVE,
        extra={"reference": "posterior sample mean + std * eps (vae.encode.latent_sample)", "sameNoiseAs": "edit_h48w64"})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out: Path = args.out
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
    edit_image = fix_longer_edge(Image.open(EDIT_SOURCE), image_size=64, factor=16)
    vae_out = write_vae_goldens(store, models.vae, edit_image)
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
