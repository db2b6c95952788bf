"""Optional: runs the **official** UniPic-2 Kontext code on the written tiny checkpoint with the
goldens' injected inputs and reports max |official - golden|. Writes nothing.

The official pipeline imports torchvision (for ToTensor); install it into a separate folder:
    .venv/bin/pip install --target /tmp/deps --no-deps torchvision==0.19.1
and unpack `UniPic-2/unipicv2` of SkyworkAI/UniPic (HEAD 9e2a609) into a folder, then
    PYTHONPATH=/tmp/deps .venv/bin/python -m unipic2_reference.official_crosscheck --official <folder>/UniPic-2
(from tools/reference). `latent_dist.sample()` is replaced by the mean, or mean + std * the injected eps.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from .tiny_config import DEFAULT_OUT


def max_diff(a, b) -> float:
    a = torch.as_tensor(np.asarray(a), dtype=torch.float64) if not isinstance(a, torch.Tensor) else a.double()
    b = torch.as_tensor(np.asarray(b), dtype=torch.float64) if not isinstance(b, torch.Tensor) else b.double()
    return (a - b).abs().max().item()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--official", type=Path, required=True, help="folder containing unipicv2/")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    sys.path.insert(0, str(args.official))
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler
    from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
    from transformers import CLIPTextModelWithProjection, CLIPTokenizer, T5EncoderModel, T5TokenizerFast
    from unipicv2.pipeline_stable_diffusion_3_kontext import StableDiffusion3KontextPipeline
    from unipicv2.transformer_sd3_kontext import SD3Transformer2DKontextModel as Official

    ck = args.fixtures / "checkpoint"
    gold = {}
    for file in (args.fixtures / "golden").glob("*.safetensors"):
        gold.update(load_file(str(file)))
    f32 = dict(torch_dtype=torch.float32)
    transformer = Official.from_pretrained(ck / "transformer", **f32).eval()
    pipe = StableDiffusion3KontextPipeline(
        transformer=transformer,
        vae=AutoencoderKL.from_pretrained(ck / "vae", **f32).eval(),
        text_encoder=CLIPTextModelWithProjection.from_pretrained(ck / "text_encoder", **f32).eval(),
        tokenizer=CLIPTokenizer.from_pretrained(ck / "tokenizer"),
        text_encoder_2=CLIPTextModelWithProjection.from_pretrained(ck / "text_encoder_2", **f32).eval(),
        tokenizer_2=CLIPTokenizer.from_pretrained(ck / "tokenizer_2"),
        text_encoder_3=T5EncoderModel.from_pretrained(ck / "text_encoder_3", **f32).eval(),
        tokenizer_3=T5TokenizerFast.from_pretrained(ck / "tokenizer_3"),
        scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(ck / "scheduler"),
    )
    pipe.set_progress_bar_config(disable=True)
    results = []

    # 1. Transformer alone, step-0 call of both recorded runs.
    for run in ("t2i_h64w48", "edit_h48w64"):
        p = f"run.{run}"
        neg, pos = ("empty", "t2i_prompt") if run.startswith("t2i") else ("edit_negative", "edit_prompt")
        embeds = torch.cat([gold[f"text.{neg}.prompt_embeds"], gold[f"text.{pos}.prompt_embeds"]])
        x = torch.cat([gold[f"{p}.noise"]] * 2)
        ref = torch.cat([gold[f"{p}.ref_latent"]] * 2) if f"{p}.ref_latent" in gold else None
        with torch.no_grad():
            v = transformer(hidden_states=x, ref_hidden_states=ref, timestep=gold[f"{p}.timesteps"][:1].expand(2),
                            encoder_hidden_states=embeds, pooled_projections=gold[f"{p}.pooled"], return_dict=False)[0]
        results.append((f"{run} step-0 transformer velocity", max_diff(v, gold[f"{p}.step0.call.velocity"])))

    # 2. Prompt encoding through the official pipeline.
    for key, text in (("t2i_prompt", "a red fox in the snow!"), ("empty", "")):
        with torch.no_grad():
            embeds, _, pooled, _ = pipe.encode_prompt(text, text, text, do_classifier_free_guidance=False)
        results.append((f"encode_prompt({key!r}) prompt_embeds", max_diff(embeds, gold[f"text.{key}.prompt_embeds"])))
        results.append((f"encode_prompt({key!r}) pooled", max_diff(pooled, gold[f"text.{key}.pooled"])))

    # 3. Whole pipeline runs with injected noise (and injected posterior draw for editing).
    from PIL import Image

    def run_pipeline(run, prompt, negative, height, width, image=None, ref_key=None, guidance=3.5):
        p = f"run.{run}"
        original_sample = DiagonalGaussianDistribution.sample
        if ref_key == "latent_mean":
            DiagonalGaussianDistribution.sample = lambda self, generator=None: self.mean
        elif ref_key == "latent_sample":
            eps = gold["vae.encode.eps"]
            DiagonalGaussianDistribution.sample = lambda self, generator=None: self.mean + self.std * eps
        try:
            with torch.no_grad():
                out = pipe(prompt=prompt, negative_prompt=negative, height=height, width=width, num_inference_steps=3,
                           guidance_scale=guidance, latents=gold[f"{p}.noise"].clone(), image=image, output_type="latent").images
                pixels = pipe(prompt=prompt, negative_prompt=negative, height=height, width=width, num_inference_steps=3,
                              guidance_scale=guidance, latents=gold[f"{p}.noise"].clone(), image=image, output_type="np").images
        finally:
            DiagonalGaussianDistribution.sample = original_sample
        results.append((f"pipeline {run} latent", max_diff(out, gold[f"{p}.latent"])))
        ours = gold[f"{p}.pixels"].numpy().astype(np.int64)
        theirs = (pixels * 255).round().astype(np.int64)
        results.append((f"pipeline {run} uint8 pixels", float(np.abs(ours - theirs).max())))

    run_pipeline("t2i_h64w48", "a red fox in the snow!", "", 64, 48)
    run_pipeline("t2i_h32w32", "a red fox in the snow!", "", 32, 32)
    run_pipeline("t2i_h32w32_cfg1", "a red fox in the snow!", None, 32, 32, guidance=1.0)
    edit_image = Image.fromarray(gold["preprocess.rgb300x200.resized64f16"].numpy())
    negative = ("blurry, low quality, low resolution, distorted, deformed, broken content, missing parts, damaged details, "
                "artifacts, glitch, noise, pixelated, grainy, compression artifacts, bad composition, wrong proportion, "
                "incomplete editing, unfinished, unedited areas.")
    run_pipeline("edit_h48w64", "make the sky purple", negative, 48, 64, image=edit_image, ref_key="latent_mean")
    run_pipeline("edit_h48w64_sampled", "make the sky purple", negative, 48, 64, image=edit_image, ref_key="latent_sample")

    width = max(len(name) for name, _ in results)
    for name, value in results:
        print(f"{name:<{width}}  {value:.3g}")


if __name__ == "__main__":
    main()
