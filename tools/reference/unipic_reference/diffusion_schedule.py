"""Respaced cosine DDPM with learned-range variance (UniPic's `gaussian_diffusion.py`, max_beta 0.2), tables in float64."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def cosine_alpha_bar(s: float) -> float:
    return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2


def base_betas(num_timesteps: int, max_beta: float) -> np.ndarray:
    """β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), max_beta); UniPic uses max_beta 0.2 (MAR/Harmon 0.999)."""
    return np.array(
        [
            min(1 - cosine_alpha_bar((i + 1) / num_timesteps) / cosine_alpha_bar(i / num_timesteps), max_beta)
            for i in range(num_timesteps)
        ],
        dtype=np.float64,
    )


def respaced_timesteps(num_timesteps: int, count: int) -> list[int]:
    """One section of `count` evenly spaced steps: round(k * (T−1)/(count−1)), accumulated in
    Python floats exactly as the official `space_timesteps` does."""
    stride = (num_timesteps - 1) / (count - 1) if count > 1 else 1
    taken, position = [], 0.0
    for _ in range(count):
        taken.append(round(position))
        position += stride
    return sorted(set(taken))


@dataclass(frozen=True)
class DiffusionTables:
    """Everything the sampler reads, indexed by respaced step k (0..S−1), float64."""

    timestep_map: np.ndarray  # int64 [S]: the original timestep fed to the network
    base_betas: np.ndarray  # [T]
    base_alphas_cumprod: np.ndarray  # [T]
    betas: np.ndarray  # [S] respaced β'
    alphas_cumprod: np.ndarray  # [S] ᾱ'
    alphas_cumprod_prev: np.ndarray  # [S]
    posterior_variance: np.ndarray  # [S]
    posterior_log_variance_clipped: np.ndarray  # [S]
    posterior_mean_coef1: np.ndarray  # [S]
    posterior_mean_coef2: np.ndarray  # [S]
    sqrt_recip_alphas_cumprod: np.ndarray  # [S]
    sqrt_recipm1_alphas_cumprod: np.ndarray  # [S]
    log_betas: np.ndarray  # [S] the max end of the learned log-variance range

    @property
    def steps(self) -> int:
        return len(self.timestep_map)

    def as_float64_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def build_tables(num_timesteps: int, sampling_steps: int, max_beta: float) -> DiffusionTables:
    betas_full = base_betas(num_timesteps, max_beta)
    alphas_cumprod_full = np.cumprod(1.0 - betas_full, axis=0)
    kept = respaced_timesteps(num_timesteps, sampling_steps)
    new_betas, previous = [], 1.0
    for index, alpha_cumprod in enumerate(alphas_cumprod_full):
        if index in kept:
            new_betas.append(1 - alpha_cumprod / previous)
            previous = alpha_cumprod
    betas = np.array(new_betas, dtype=np.float64)
    alphas_cumprod = np.cumprod(1.0 - betas, axis=0)
    alphas_cumprod_prev = np.append(1.0, alphas_cumprod[:-1])
    posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
    return DiffusionTables(
        timestep_map=np.array(kept, dtype=np.int64),
        base_betas=betas_full,
        base_alphas_cumprod=alphas_cumprod_full,
        betas=betas,
        alphas_cumprod=alphas_cumprod,
        alphas_cumprod_prev=alphas_cumprod_prev,
        posterior_variance=posterior_variance,
        # The variance is 0 at k = 0, so its log is replaced by the next entry's.
        posterior_log_variance_clipped=np.log(np.append(posterior_variance[1], posterior_variance[1:])),
        posterior_mean_coef1=betas * np.sqrt(alphas_cumprod_prev) / (1.0 - alphas_cumprod),
        posterior_mean_coef2=(1.0 - alphas_cumprod_prev) * np.sqrt(1.0 - betas) / (1.0 - alphas_cumprod),
        sqrt_recip_alphas_cumprod=np.sqrt(1.0 / alphas_cumprod),
        sqrt_recipm1_alphas_cumprod=np.sqrt(1.0 / alphas_cumprod - 1),
        log_betas=np.log(betas),
    )


# Values computed independently when the UniPic-1 spec was written (max_beta 0.2):
# (quantity, value, relative tolerance of the printed digits).
APPENDIX_A_CHECKS = [
    ("base_alphas_cumprod", 0, 0.99995872, 1e-8),
    ("betas", 0, 4.128e-5, 1e-3),
    ("betas", 1, 6.798e-4, 1e-3),
    ("betas", 99, 0.89128, 1e-4),
    ("alphas_cumprod", 99, 2.6403e-5, 1e-4),
    ("posterior_variance", 1, 3.892e-5, 1e-3),
    ("posterior_variance", 2, 4.457e-4, 1e-3),
    ("posterior_variance", 99, 0.89109, 1e-4),
]

APPENDIX_A_TIMESTEPS = [int(value) for value in """
0 10 20 30 40 50 61 71 81 91 101 111 121 131 141 151 161 172 182 192 202 212 222 232 242
252 262 272 283 293 303 313 323 333 343 353 363 373 383 394 404 414 424 434 444 454 464
474 484 494 505 515 525 535 545 555 565 575 585 595 605 616 626 636 646 656 666 676 686
696 706 716 727 737 747 757 767 777 787 797 807 817 827 838 848 858 868 878 888 898 908
918 928 938 949 959 969 979 989 999
""".split()]


def verify_against_appendix_a(tables: DiffusionTables) -> None:
    if tables.posterior_variance[0] != 0.0:
        raise AssertionError("posterior variance at k = 0 must be exactly 0")
    if tables.timestep_map.tolist() != APPENDIX_A_TIMESTEPS:
        raise AssertionError("respaced timesteps differ from spec Appendix A")
    for name, index, expected, relative in APPENDIX_A_CHECKS:
        actual = float(getattr(tables, name)[index])
        if abs(actual - expected) > relative * abs(expected):
            raise AssertionError(f"{name}[{index}] = {actual!r}, spec Appendix A says {expected}")
