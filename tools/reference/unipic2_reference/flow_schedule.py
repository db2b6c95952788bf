"""FlowMatch Euler sigma tables (diffusers `FlowMatchEulerDiscreteScheduler`), computed from the formulas and asserted equal to
diffusers' FlowMatchEulerDiscreteScheduler, including the double shift of the smallest sigma."""
from __future__ import annotations

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from .tiny_config import SCHEDULER


def training_sigma_range(shift: float, train_steps: int = 1000) -> tuple[float, float]:
    """The constructor works in float32: linspace(1, T, T)/T, then the static shift."""
    ts = np.linspace(1, train_steps, train_steps, dtype=np.float32)[::-1]
    s = ts / np.float32(train_steps)
    s = (np.float32(shift) * s) / (np.float32(1) + np.float32(shift - 1) * s)
    return float(s[0]), float(s[-1])


def sigma_table(steps: int, shift: float = SCHEDULER["shift"], train_steps: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """(sigmas float32 [steps + 1] ending in 0, timesteps float32 [steps] = sigma * 1000).
    sigma_min is already shifted; set_timesteps shifts the whole float64 linspace again."""
    sigma_max, sigma_min = training_sigma_range(shift, train_steps)
    t = np.linspace(sigma_max * train_steps, sigma_min * train_steps, steps)
    s = t / train_steps
    s = shift * s / (1 + (shift - 1) * s)
    sigmas = s.astype(np.float32)
    timesteps = sigmas * np.float32(train_steps)
    return np.concatenate([sigmas, np.zeros(1, dtype=np.float32)]), timesteps


def make_scheduler() -> FlowMatchEulerDiscreteScheduler:
    return FlowMatchEulerDiscreteScheduler(**SCHEDULER)


def assert_matches_diffusers(steps: int) -> None:
    scheduler = make_scheduler()
    scheduler.set_timesteps(steps)
    sigmas, timesteps = sigma_table(steps)
    if not torch.equal(scheduler.sigmas, torch.from_numpy(sigmas)):
        raise AssertionError(f"sigma table N={steps} differs from diffusers")
    if not torch.equal(scheduler.timesteps, torch.from_numpy(timesteps)):
        raise AssertionError(f"timesteps N={steps} differ from diffusers")


def assert_spec_values() -> None:
    """The SD3.5 (shift 3) sigmas computed independently when the spec was written (shared/docs, outside the repository)."""
    s50, _ = sigma_table(50)
    np.testing.assert_allclose(s50[:4], [1.0, 0.993124, 0.986057, 0.978790], atol=1e-6)
    np.testing.assert_allclose(s50[-5:-1], [0.170296, 0.120533, 0.066900, 0.008929], atol=1e-6)
    s28, _ = sigma_table(28)
    np.testing.assert_allclose(s28[-5:-1], [0.278049, 0.199827, 0.110906, 0.008929], atol=1e-6)
    assert s50[-1] == 0.0
