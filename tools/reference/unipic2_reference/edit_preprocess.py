"""Editing preprocessing of the official script (`unipic2_sd35m_kontext_editing.py` `fix_longer_edge`): longer edge to `image_size`, the
other edge `round(edge * (image_size / longer) / factor) * factor` with Python's round (half to
even) and that exact float operation order; Pillow's default resize filter (BICUBIC for RGB);
then ToTensor ([0, 1], float32) and `* 2 - 1`."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .tiny_config import EDIT_FACTOR, EDIT_IMAGE_SIZE


def fix_longer_edge_size(width: int, height: int, image_size: int = EDIT_IMAGE_SIZE, factor: int = EDIT_FACTOR) -> tuple[int, int]:
    """(width, height) after the resize. Can be 0 for extreme aspect ratios (Pillow then raises)."""
    if width >= height:
        return image_size, round(height * (image_size / width) / factor) * factor
    return round(width * (image_size / height) / factor) * factor, image_size


def fix_longer_edge(image: Image.Image, image_size: int = EDIT_IMAGE_SIZE, factor: int = EDIT_FACTOR) -> Image.Image:
    return image.resize(fix_longer_edge_size(*image.size, image_size=image_size, factor=factor))


def pixels_to_model_input(image: Image.Image) -> torch.Tensor:
    """[1, 3, H, W] float32 in [-1, 1]: ToTensor divides the uint8 bytes by 255 in float32."""
    array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    tensor = torch.from_numpy(array.copy()).permute(2, 0, 1).float().div(255)
    return (tensor * 2.0 - 1.0).unsqueeze(0)
