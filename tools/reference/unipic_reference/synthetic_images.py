"""Deterministic small RGB test pictures (uint8 HWC), so fixtures need no image files."""
from __future__ import annotations

import numpy as np


def scene(size: int) -> np.ndarray:
    """A sky-to-ground gradient with a sun disc and a dark box: smooth areas and sharp edges."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / (size - 1)
    red = 40 + 180 * x
    green = 60 + 150 * (1 - y)
    blue = 200 - 160 * y
    sun = (x - 0.7) ** 2 + (y - 0.3) ** 2 < 0.03
    red[sun], green[sun], blue[sun] = 250, 220, 40
    box = (x > 0.15) & (x < 0.45) & (y > 0.55) & (y < 0.9)
    red[box], green[box], blue[box] = 30, 30, 35
    return np.stack([red, green, blue], axis=-1).round().clip(0, 255).astype(np.uint8)


def stripes(size: int) -> np.ndarray:
    """Diagonal colour stripes over a checkerboard."""
    y, x = np.mgrid[0:size, 0:size]
    checker = ((x // 8 + y // 8) % 2) * 60
    band = ((x + y) // 6) % 3
    palette = np.array([[200, 40, 40], [40, 180, 60], [50, 70, 210]])
    return (palette[band] * 0.75 + checker[..., None]).round().clip(0, 255).astype(np.uint8)


def to_model_pixels(image: np.ndarray) -> np.ndarray:
    """uint8 HWC -> float32 [1, 3, S, S] in [-1, 1]: x/255, then 2x − 1 (scripts/image_edit.py)."""
    scaled = image.astype(np.float32) / np.float32(255.0)
    return (2 * scaled - 1).transpose(2, 0, 1)[None].copy()
