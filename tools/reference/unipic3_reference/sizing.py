"""Input sizing of the official UniPic-3 pipeline (`qwen_image_edit/pipeline_qwenimage_edit.py`): all inputs share a 1024² pixel
budget, each is scaled by 1024/√Σwh with Python's round, then rounded to multiples of 32."""
from __future__ import annotations

import math


def budget_sizes(inputs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    ratio = 1024 / math.sqrt(sum(w * h for w, h in inputs))
    scaled = [(round(w * ratio), round(h * ratio)) for w, h in inputs]
    return [(round(w / 32) * 32, round(h / 32) * 32) for w, h in scaled]
