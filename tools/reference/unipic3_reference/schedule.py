"""The teacher and distilled (`qwen_image_edit_fast`) samplers, written from the formulas; the
teacher's table is also taken from diffusers' FlowMatchEulerDiscreteScheduler (the reference) and
both must agree."""
from __future__ import annotations

import math

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from .tiny_config import SCHEDULER


def calculate_shift(seq_len: int) -> float:
    c = SCHEDULER
    m = (c["max_shift"] - c["base_shift"]) / (c["max_image_seq_len"] - c["base_image_seq_len"])
    return seq_len * m + (c["base_shift"] - m * c["base_image_seq_len"])


def teacher_sigmas(steps: int, seq_len: int) -> torch.Tensor:
    """diffusers' table: linspace(1, 1/N) → exponential shift with μ → terminal stretch; + final 0."""
    scheduler = FlowMatchEulerDiscreteScheduler(**SCHEDULER)
    sigmas = np.linspace(1.0, 1 / steps, steps)
    scheduler.set_timesteps(sigmas=sigmas, mu=calculate_shift(seq_len))
    return scheduler.sigmas.clone()


def teacher_sigmas_from_spec(steps: int, seq_len: int) -> torch.Tensor:
    mu = calculate_shift(seq_len)
    s = np.linspace(1.0, 1 / steps, steps).astype(np.float32)
    s = math.exp(mu) / (math.exp(mu) + (1 / s - 1))
    one_minus = 1 - s
    s = 1 - one_minus / (one_minus[-1] / (1 - SCHEDULER["shift_terminal"]))
    return torch.cat([torch.from_numpy(s.astype(np.float32)), torch.zeros(1)])


def distilled_times(steps: int, seq_len: int) -> torch.Tensor:
    """t_k = e^μ s / (1 + (e^μ − 1) s) on s = linspace(1, 0, N+1), float64, no terminal stretch."""
    shift = math.exp(calculate_shift(seq_len))
    s = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    return shift * s / (1 + (shift - 1) * s)


def cfg_norm_rescale(cond: torch.Tensor, uncond: torch.Tensor, scale: float) -> torch.Tensor:
    combined = uncond + scale * (cond - uncond)
    return combined * (torch.norm(cond, dim=-1, keepdim=True) / torch.norm(combined, dim=-1, keepdim=True))


def teacher_step(v: torch.Tensor, x: torch.Tensor, steps: int, seq_len: int, index: int) -> torch.Tensor:
    scheduler = FlowMatchEulerDiscreteScheduler(**SCHEDULER)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / steps, steps), mu=calculate_shift(seq_len))
    scheduler._step_index = index
    return scheduler.step(v, scheduler.timesteps[index], x, return_dict=False)[0]


def distilled_step(v: torch.Tensor, x: torch.Tensor, noise: torch.Tensor, times: torch.Tensor, index: int):
    tau = torch.tensor(float(times[index]), dtype=torch.bfloat16).float()  # the latents' dtype in the scripts
    x0 = x - tau * v
    following = float(times[index + 1])
    return (1 - following) * x0 + following * noise, tau
