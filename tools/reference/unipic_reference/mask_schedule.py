"""MaskGIT cosine schedule of the MAR loop (MaskGIT cosine, as the official MAR loop), float64 cos and floor as NumPy."""
from __future__ import annotations

import math

import numpy as np
import torch


def next_masked_count(step: int, num_iter: int, image_tokens: int, masked_now: int) -> int:
    """How many tokens stay masked after `step`. The official code holds this in a float32
    tensor; every value here is an integer below 2^24, so float32 changes nothing."""
    ratio = np.cos(math.pi / 2.0 * (step + 1) / num_iter)
    candidate = np.float32(np.floor(image_tokens * ratio))
    return int(max(np.float32(1.0), min(np.float32(masked_now - 1), candidate)))


def token_count_table(image_tokens: int, num_iter: int) -> np.ndarray:
    """[num_iter, 2] int64: known tokens before each step, tokens predicted in it."""
    rows, masked = [], image_tokens
    for step in range(num_iter):
        remaining = next_masked_count(step, num_iter, image_tokens, masked)
        predicted = masked if step == num_iter - 1 else masked - remaining
        rows.append((image_tokens - masked, predicted))
        masked = remaining
    return np.array(rows, dtype=np.int64)


def linear_cfg_scale(cfg: float, image_tokens: int, remaining: int) -> torch.Tensor:
    """1 + (cfg−1)·(N − L_next)/N evaluated in float32, the dtype the official code uses
    (its mask length is a float32 tensor), as a float32 scalar tensor."""
    remaining32 = torch.tensor([float(remaining)], dtype=torch.float32)
    return (1 + (cfg - 1) * (image_tokens - remaining32) / image_tokens)[0]


# "known-before/predicted" per step, computed independently when the UniPic-1 spec was written, N=4096 and N=1024 at 32 iterations.
SPEC_TOKEN_COUNTS = {
    (4096, 32): "0:0/5 1:5/15 2:20/25 3:45/34 4:79/44 5:123/54 6:177/63 7:240/72 8:312/82 9:394/90 "
    "10:484/99 11:583/108 12:691/116 13:807/123 14:930/132 15:1062/138 16:1200/146 17:1346/152 "
    "18:1498/159 19:1657/164 20:1821/170 21:1991/175 22:2166/179 23:2345/184 24:2529/188 "
    "25:2717/190 26:2907/194 27:3101/196 28:3297/198 29:3495/200 30:3695/201 31:3896/200",
    (1024, 32): "0:0/2 1:2/3 2:5/7 3:12/8 4:20/11 5:31/14 6:45/15 7:60/18 8:78/21 9:99/22 10:121/25 "
    "11:146/27 12:173/29 13:202/31 14:233/33 15:266/34 16:300/37 17:337/38 18:375/40 19:415/41 "
    "20:456/42 21:498/44 22:542/45 23:587/46 24:633/47 25:680/47 26:727/49 27:776/49 28:825/49 "
    "29:874/50 30:924/50 31:974/50",
}


def verify_against_spec() -> None:
    for (tokens, iterations), text in SPEC_TOKEN_COUNTS.items():
        expected = [tuple(int(v) for v in item.split(":")[1].split("/")) for item in text.split()]
        if [tuple(row) for row in token_count_table(tokens, iterations).tolist()] != expected:
            raise AssertionError(f"token counts for N={tokens}, {iterations} iterations differ from spec §5.5")
