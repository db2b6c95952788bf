"""Per-resolution MAR position tables (the official MAR's position embedding interpolation).

The official code resizes the learned 2-D image part with `F.interpolate(mode='bilinear')`
(align_corners=False, no antialias) at run time in the model dtype; the graph contract
(docs/model-format.md) precomputes them in float64 and stores float32, so the oracle does the same
and its samplers read these float32 tables."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class PositionTables:
    encoder_pos: torch.Tensor  # [F+N, W]
    decoder_pos: torch.Tensor  # [F+N, W]
    diffusion_pos: torch.Tensor  # [N, W]
    grid: int

    def to(self, dtype: torch.dtype) -> "PositionTables":
        return PositionTables(self.encoder_pos.to(dtype), self.decoder_pos.to(dtype), self.diffusion_pos.to(dtype), self.grid)


def resize_image_rows(rows: torch.Tensor, native_grid: int, grid: int) -> torch.Tensor:
    """rows [native², W] in raster order -> [grid², W], bilinear with half-pixel centres."""
    if grid == native_grid:
        return rows.clone()
    width = rows.shape[-1]
    image = rows.to(torch.float64).reshape(native_grid, native_grid, width).permute(2, 0, 1)[None]
    resized = F.interpolate(image, size=(grid, grid), mode="bilinear", align_corners=False)
    return resized[0].permute(1, 2, 0).reshape(grid * grid, width)


def build_position_tables(mar, grid: int, dtype: torch.dtype = torch.float32) -> PositionTables:
    buffer_size, native = mar.buffer_size, mar.native_grid

    def with_buffers(table: torch.Tensor) -> torch.Tensor:
        flat = table.detach()[0]
        image = resize_image_rows(flat[buffer_size:], native, grid)
        return torch.cat([flat[:buffer_size].to(torch.float64), image.to(torch.float64)], dim=0)

    return PositionTables(
        encoder_pos=with_buffers(mar.encoder_pos_embed_learned).to(dtype),
        decoder_pos=with_buffers(mar.decoder_pos_embed_learned).to(dtype),
        diffusion_pos=resize_image_rows(mar.diffusion_pos_embed_learned.detach()[0], native, grid).to(torch.float64).to(dtype),
        grid=grid,
    )
