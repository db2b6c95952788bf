"""The Kontext pipeline's denoising loop (`pipeline_stable_diffusion_3_kontext.py` `__call__`) with injected noise and reference
latent, recording every stage into a golden scope.

Per step i: `v = transformer(cat[x, x], t_i, cat[neg, pos], cat[neg_pooled, pos_pooled], ref=cat[r, r])`
(batch order [negative, positive]); `v = v_u + g (v_c - v_u)`; `x += (sigma_{i+1} - sigma_i) v`
in float32 (FlowMatchEulerDiscreteScheduler.step, the scheduler object itself is used).
With guidance <= 1 the pipeline turns CFG off: batch 1, positive prompt only, `v = v_c`.
Then decode `x / 1.5305 + 0.0609` and postprocess to uint8.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from .flow_schedule import make_scheduler, sigma_table
from .golden_store import GoldenScope
from .kontext_transformer import SD3Transformer2DKontextModel
from .vae_latents import decode, postprocess


@dataclass
class RunInputs:
    noise: torch.Tensor  # [1, 16, H/8, W/8]
    prompt_embeds: torch.Tensor  # [2, S, 32]: [negative, positive]; [1, S, 32] without CFG
    pooled: torch.Tensor  # [2, 24]; [1, 24] without CFG
    steps: int
    guidance: float
    ref_latent: Optional[torch.Tensor] = None  # [1, 16, H/8, W/8], already scaled


@torch.no_grad()
def run_sampler(transformer: SD3Transformer2DKontextModel, vae, inputs: RunInputs, scope: GoldenScope, record_blocks_at: tuple[int, ...] = ()) -> torch.Tensor:
    scheduler = make_scheduler()
    scheduler.set_timesteps(inputs.steps)
    sigmas, timesteps = sigma_table(inputs.steps)
    if not torch.equal(scheduler.sigmas, torch.from_numpy(sigmas)):
        raise AssertionError("scheduler sigmas differ from the spec table")
    scope.put("sigmas", scheduler.sigmas)
    scope.put("timesteps", scheduler.timesteps)
    scope.put("noise", inputs.noise)
    # prompt_embeds are in golden/text.safetensors (index.json runs.<name>.textGoldens names them).
    scope.put("pooled", inputs.pooled)
    cfg = inputs.guidance > 1  # StableDiffusion3KontextPipeline.do_classifier_free_guidance
    batch = 2 if cfg else 1
    if inputs.prompt_embeds.shape[0] != batch or inputs.pooled.shape[0] != batch:
        raise ValueError(f"prompt batch must be {batch} for guidance {inputs.guidance}")
    ref_batch = None
    if inputs.ref_latent is not None:
        scope.put("ref_latent", inputs.ref_latent)
        ref_batch = torch.cat([inputs.ref_latent] * batch)

    latent = inputs.noise.clone()
    for i, t in enumerate(scheduler.timesteps):
        step = scope.child(f"step{i}")
        step.put("latent_in", latent)
        call = step.child("call") if i in record_blocks_at else None
        record = (lambda name, value: call.put(name, value)) if call else None
        timestep = t.expand(batch).to(latent.dtype)
        velocity = transformer(
            torch.cat([latent] * batch), inputs.prompt_embeds, inputs.pooled, timestep, ref_hidden_states=ref_batch, record=record
        )[0]
        if cfg:
            uncond, cond = velocity.chunk(2)
            guided = uncond + inputs.guidance * (cond - uncond)
            step.put("velocity_uncond", uncond)
        else:
            cond = guided = velocity
        step.put("velocity_cond", cond)
        step.put("velocity_guided", guided)
        if latent.dtype == torch.float64:  # precision_check: the scheduler would round to float32
            latent = latent + (scheduler.sigmas[i + 1].double() - scheduler.sigmas[i].double()) * guided
        else:
            latent = scheduler.step(guided, t, latent, return_dict=False)[0]
        step.put("latent_out", latent)

    scope.put("latent", latent)
    decoded = decode(vae, latent)
    scope.put("decoded", decoded)
    pixels = torch.from_numpy(postprocess(decoded))
    scope.put("pixels", pixels)
    return pixels
