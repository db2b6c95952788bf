"""Goldens of the complete sampler runs (t2i, no-T5, edit with the posterior mean and with an
injected posterior sample), and the check that the Kontext forward without a reference latent is
diffusers' own SD3 forward."""
from __future__ import annotations

import torch
from diffusers import SD3Transformer2DModel

from . import prompts
from .golden_store import GoldenStore
from .injected import STREAM_CROSSCHECK, STREAM_EDIT, STREAM_T2I_32, STREAM_T2I_64x48, STREAM_T2I_CFG1, STREAM_T2I_NO_T5, randn
from .sampler import RunInputs, run_sampler
from .tiny_config import GUIDANCE_SCALE, TINY_STEPS


def pair(negative, positive):
    return torch.cat([negative.prompt_embeds, positive.prompt_embeds]), torch.cat([negative.pooled, positive.pooled])


@torch.no_grad()
def assert_plain_forward_matches(models, enc) -> None:
    """Without a reference latent the Kontext forward must be diffusers' own SD3 forward."""
    embeds, pooled = pair(enc["empty"], enc["t2i_prompt"])
    latent = torch.cat([randn((1, 16, 8, 6), STREAM_CROSSCHECK)] * 2)
    t = torch.tensor([751.1211, 751.1211])
    mine = models.transformer(latent, embeds, pooled, t)[0]
    theirs = SD3Transformer2DModel.forward(models.transformer, latent, embeds, pooled, t, return_dict=False)[0]
    if not torch.equal(mine, theirs):
        raise AssertionError(f"Kontext forward without ref != diffusers SD3 forward ({(mine - theirs).abs().max()})")


def write_runs(store: GoldenStore, models, enc, vae_out) -> dict:
    runs = {}

    def run(name, height, width, stream, negative, positive, ref_latent=None, prompt=None, negative_text=None, extra=None,
            blocks=False, guidance=GUIDANCE_SCALE):
        if guidance > 1:
            embeds, pooled = pair(enc[negative], enc[positive])
        else:
            embeds, pooled = enc[positive].prompt_embeds, enc[positive].pooled
        noise = randn((1, 16, height // 8, width // 8), stream)
        inputs = RunInputs(noise=noise, prompt_embeds=embeds, pooled=pooled, steps=TINY_STEPS, guidance=guidance, ref_latent=ref_latent)
        run_sampler(models.transformer, models.vae, inputs, store.scope(f"golden/run_{name}.safetensors", f"run.{name}"),
                    record_blocks_at=(0,) if blocks else ())
        text_goldens = {"positive": f"text.{positive}"}
        if guidance > 1:
            text_goldens = {"negative": f"text.{negative}", **text_goldens}
        runs[name] = {"height": height, "width": width, "steps": TINY_STEPS, "guidance": guidance,
                      "prompt": prompt, "negativePrompt": negative_text if guidance > 1 else None,
                      "batchOrder": ["negative", "positive"] if guidance > 1 else ["positive"],
                      "textGoldens": text_goldens,
                      "stagesRecordedForStep0": blocks, **(extra or {})}

    run("t2i_h64w48", 64, 48, STREAM_T2I_64x48, "empty", "t2i_prompt", prompt=prompts.T2I_PROMPT, negative_text=prompts.T2I_NEGATIVE, blocks=True)
    run("t2i_h32w32", 32, 32, STREAM_T2I_32, "empty", "t2i_prompt", prompt=prompts.T2I_PROMPT, negative_text=prompts.T2I_NEGATIVE)
    run("t2i_h32w32_no_t5", 32, 32, STREAM_T2I_NO_T5, "empty_no_t5", "t2i_prompt_no_t5", prompt=prompts.T2I_PROMPT,
        negative_text=prompts.T2I_NEGATIVE, extra={"t5": False})
    run("t2i_h32w32_cfg1", 32, 32, STREAM_T2I_CFG1, None, "t2i_prompt", prompt=prompts.T2I_PROMPT, guidance=1.0,
        extra={"note": "guidance <= 1 turns CFG off: batch 1, positive prompt only, no negative prompt encoded"})
    run("edit_h48w64", 48, 64, STREAM_EDIT, "edit_negative", "edit_prompt", ref_latent=vae_out["latent_mean"],
        prompt=prompts.EDIT_PROMPT, negative_text=prompts.EDIT_NEGATIVE, extra={"reference": "posterior mean (vae.encode.latent_mean)"},
        blocks=True)
    run("edit_h48w64_sampled", 48, 64, STREAM_EDIT, "edit_negative", "edit_prompt", ref_latent=vae_out["latent_sample"],
        prompt=prompts.EDIT_PROMPT, negative_text=prompts.EDIT_NEGATIVE,
        extra={"reference": "posterior sample mean + std * eps (vae.encode.latent_sample)", "sameNoiseAs": "edit_h48w64"})
    return runs
