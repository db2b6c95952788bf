"""Goldens of the host-side tables: FlowMatch sigmas and timesteps, the timestep sinusoid, the
position-table crops (tiny and real size) and T5's relative-position buckets and bias."""
from __future__ import annotations

import math

import numpy as np
import torch
from diffusers.models.embeddings import get_1d_sincos_pos_embed_from_grid, get_2d_sincos_pos_embed, get_timestep_embedding

from .flow_schedule import assert_matches_diffusers, assert_spec_values, sigma_table
from .golden_store import GoldenStore
from .position_table import axis_embedding, crop, grid_coordinates, round_to_bf16, table_for
from .tiny_config import T5_MAX_LENGTH, TINY_STEPS, TRANSFORMER

REAL_POSITION = dict(grid=384, base=64, dim=1536)  # SD3.5 Medium: sample_size 128, patch 2, max size 384


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
