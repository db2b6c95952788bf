"""The SD3 2-D sin-cos position table and its crop (diffusers `get_2d_sincos_pos_embed`), computed independently of
diffusers in float64 so the oracle can assert that diffusers' buffer is the same table."""
from __future__ import annotations

import numpy as np
import torch


def axis_embedding(dim: int, positions: np.ndarray) -> np.ndarray:
    """[len(positions), dim]: sin of every frequency, then cos (float64)."""
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    angles = np.outer(positions.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def grid_coordinates(grid_size: int, base_size: int, float32_coordinates: bool = True) -> np.ndarray:
    """`k / (grid_size / base_size)`. diffusers divides in float32 (its arange is float32, and so
    was the numpy version before it); only the sin/cos after it run in float64. The divisor is
    6.0 for the real model (384 / 64) and 1.5 here, so k/6 is not exact in float32."""
    if float32_coordinates:
        return np.arange(grid_size, dtype=np.float32) / np.float32(grid_size / base_size)
    return np.arange(grid_size, dtype=np.float64) / (grid_size / base_size)


def full_table(embed_dim: int, grid_size: int, base_size: int, float32_coordinates: bool = True) -> np.ndarray:
    """[grid_size**2, embed_dim], rows in (y, x) row-major order; first half encodes x, second y."""
    coords = grid_coordinates(grid_size, base_size, float32_coordinates).astype(np.float64)
    x_grid, y_grid = np.meshgrid(coords, coords, indexing="xy")
    return np.concatenate([axis_embedding(embed_dim // 2, x_grid), axis_embedding(embed_dim // 2, y_grid)], axis=1)


def crop(table: np.ndarray, grid_size: int, hp: int, wp: int) -> np.ndarray:
    top, left = (grid_size - hp) // 2, (grid_size - wp) // 2
    grid = table.reshape(grid_size, grid_size, -1)
    return grid[top : top + hp, left : left + wp].reshape(hp * wp, -1)


def round_to_bf16(values: torch.Tensor) -> torch.Tensor:
    """float32 -> bfloat16 (round to nearest even) -> float32."""
    return values.to(torch.float32).to(torch.bfloat16).to(torch.float32)


def table_for(config: dict) -> tuple[np.ndarray, int]:
    grid = config["pos_embed_max_size"]
    base = config["sample_size"] // config["patch_size"]
    inner = config["num_attention_heads"] * config["attention_head_dim"]
    return full_table(inner, grid, base), grid
