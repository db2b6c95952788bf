"""The Kontext change to diffusers' SD3.5 MMDiT-X, written from the UniPic-2 spec (shared/docs, outside the
repository), not from `transformer_sd3_kontext.py`.

Only the top-level forward differs from `SD3Transformer2DModel`: the reference latent goes through
the same PatchEmbed (same conv, same position crop) and its tokens are put *before* the target
tokens; every block sees ref + target as one image stream; the target tokens (the last hp*wp) are
sliced out before `norm_out`. The blocks, embedders and norms are diffusers' own modules, so the
state-dict keys are the published ones.

The class name is the one the published `transformer/config.json` names, so `_class_name` in the
saved config matches a real checkpoint.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from diffusers import SD3Transformer2DModel

Recorder = Optional[Callable[[str, torch.Tensor], None]]


class SD3Transformer2DKontextModel(SD3Transformer2DModel):
    def forward(  # noqa: D401 - same call shape as the official pipeline uses
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        pooled_projections: torch.Tensor,
        timestep: torch.Tensor,
        ref_hidden_states: Optional[torch.Tensor] = None,
        record: Recorder = None,
        return_dict: bool = False,
    ):
        rec = record or (lambda name, value: None)
        patch = self.config.patch_size
        height, width = hidden_states.shape[-2:]
        hp, wp = height // patch, width // patch

        rec("patch_conv", self.pos_embed.proj(hidden_states).flatten(2).transpose(1, 2))
        image = self.pos_embed(hidden_states)
        rec("patch_embed", image)
        if ref_hidden_states is not None:
            if ref_hidden_states.shape != hidden_states.shape:
                raise ValueError(f"reference latent {tuple(ref_hidden_states.shape)} != target {tuple(hidden_states.shape)}")
            ref = self.pos_embed(ref_hidden_states)
            rec("ref_patch_embed", ref)
            image = torch.cat([ref, image], dim=1)

        if record is not None:
            sinusoid = self.time_text_embed.time_proj(timestep)
            rec("time_proj", sinusoid)
            rec("timestep_embed", self.time_text_embed.timestep_embedder(sinusoid.to(pooled_projections.dtype)))
            rec("text_embed", self.time_text_embed.text_embedder(pooled_projections))
        temb = self.time_text_embed(timestep, pooled_projections)
        rec("temb", temb)
        context = self.context_embedder(encoder_hidden_states)
        rec("context_embed", context)

        for index, block in enumerate(self.transformer_blocks):
            context, image = block(hidden_states=image, encoder_hidden_states=context, temb=temb)
            rec(f"block{index}.image", image)
            if context is not None:
                rec(f"block{index}.context", context)

        target = image[:, -hp * wp :, :]
        normed = self.norm_out(target, temb)
        rec("norm_out", normed)
        tokens = self.proj_out(normed)
        rec("proj_out", tokens)
        out = self.out_channels
        velocity = (
            tokens.reshape(tokens.shape[0], hp, wp, patch, patch, out)
            .permute(0, 5, 1, 3, 2, 4)
            .reshape(tokens.shape[0], out, hp * patch, wp * patch)
        )
        rec("velocity", velocity)
        return {"sample": velocity} if return_dict else (velocity,)
