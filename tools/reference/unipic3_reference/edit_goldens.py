"""End-to-end UniPic-3 edit on tiny modules, the official pipeline's steps in fp32:
two inputs budget-sized, prompt + " " through the tiny Qwen2.5-VL (prompt_goldens), each input
VAE-encoded ((μ − mean)/std, packed) as a reference frame after the target, the teacher's Euler
steps or the distilled x0 / re-noise steps with true CFG 4.0 + norm rescale, the target unpacked,
`z / (1/std) + mean`, decoded, postprocessed to uint8. Noise is injected (golden inputs).

Writes test/fixtures/unipic3/edit/: `checkpoint/transformer/` (a tiny transformer whose channels
match the fixture VAE: in 64 = 4 × z 16, out 16, text 16 = the tiny VLM's width) and golden.safetensors.
Run: `python -m unipic3_reference.edit_goldens` from tools/reference (regenerate.sh).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageEditPipeline, QwenImageTransformer2DModel
from diffusers.image_processor import VaeImageProcessor
from safetensors.torch import save_file

from . import prompt_goldens as prompt
from . import sdpa_shim
from .checkpoint import perturb_norms
from .schedule import calculate_shift, cfg_norm_rescale, distilled_times
from .tiny_config import SCHEDULER, VAE_FULL

ROOT = Path(__file__).resolve().parents[3] / "test" / "fixtures" / "unipic3"
OUT = ROOT / "edit"
TRANSFORMER_E2E = dict(patch_size=2, in_channels=64, out_channels=16, num_layers=2, attention_head_dim=16,
                       num_attention_heads=3, joint_attention_dim=16, guidance_embeds=False, axes_dims_rope=(8, 4, 4))
WIDTH, HEIGHT = 64, 48  # output (multiples of 16); inputs are budget-sized to ≈1024² regardless (official pipeline)
STEPS = 2
SCALE = 4.0


def pack(latents: torch.Tensor) -> torch.Tensor:
    """`_pack_latents` of `[B, C, 1, h, w]` (VAE) or `[B, 1, C, h, w]` (noise, as the pipeline draws it)."""
    return QwenImageEditPipeline._pack_latents(latents, latents.shape[0], VAE_FULL["z_dim"], latents.shape[-2], latents.shape[-1])


def unpack(packed: torch.Tensor, h: int, w: int, c: int) -> torch.Tensor:
    return packed.view(1, h // 2, w // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(1, c, 1, h, w)


def main() -> None:
    sdpa_shim.install()
    torch.set_num_threads(1)
    torch.manual_seed(11)
    transformer = QwenImageTransformer2DModel(**TRANSFORMER_E2E)
    perturb_norms(transformer, torch.Generator().manual_seed(12))
    if OUT.exists():
        shutil.rmtree(OUT)
    transformer.to(torch.bfloat16).save_pretrained(OUT / "checkpoint" / "transformer", safe_serialization=True)
    transformer = QwenImageTransformer2DModel.from_pretrained(OUT / "checkpoint" / "transformer", torch_dtype=torch.float32).eval()
    vae = AutoencoderKLQwenImage.from_pretrained(ROOT / "checkpoint" / "vae", torch_dtype=torch.float32).eval()
    processor, vlm = prompt.load_text_encoder()

    inputs = [prompt.pattern(w, h, k) for k, (w, h) in enumerate(prompt.SIZES)]
    sized = prompt.budget(inputs)
    vl = prompt.vl_copies(sized)
    cond = prompt.encode_prompt(processor, vlm, prompt.INSTRUCTION, vl)["embeds"][None]
    uncond = prompt.encode_prompt(processor, vlm, " ", vl)["embeds"][None]

    z = VAE_FULL["z_dim"]
    mean = torch.tensor(VAE_FULL["latents_mean"]).view(1, z, 1, 1, 1)
    std = torch.tensor(VAE_FULL["latents_std"]).view(1, z, 1, 1, 1)
    # VaeImageProcessor(vae_scale_factor=16).preprocess at the image's own size, argmax (= posterior mean).
    pre = VaeImageProcessor(vae_scale_factor=16)
    refs = []
    shapes = [(1, HEIGHT // 16, WIDTH // 16)]
    goldens: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for k, im in enumerate(sized):
            pixels = pre.preprocess(im, im.height, im.width).unsqueeze(2)
            mu = vae.encode(pixels).latent_dist.mode()
            packed = pack((mu - mean) / std)
            goldens[f"reference_{k}.head"] = packed[0, :16]  # the first rows only (the full tensors are 1 MB)
            refs.append(packed)
            shapes.append((1, im.height // 16, im.width // 16))
    target_tokens = (HEIGHT // 16) * (WIDTH // 16)
    seq = target_tokens
    g = torch.Generator().manual_seed(21)
    start = torch.randn(1, 1, z, HEIGHT // 8, WIDTH // 8, generator=g)
    renoise = [torch.randn(1, 1, z, HEIGHT // 8, WIDTH // 8, generator=g) for _ in range(STEPS)]
    goldens["initial_noise"] = start[0, 0]
    for i, e in enumerate(renoise):
        goldens[f"renoise_{i}"] = e[0, 0]

    def velocity(x: torch.Tensor, timestep: float) -> torch.Tensor:
        hidden = torch.cat([x, *refs], dim=1)
        out = []
        for emb in (cond, uncond):
            with torch.no_grad():
                v = transformer(hidden_states=hidden, timestep=torch.tensor([timestep]), encoder_hidden_states=emb,
                                encoder_hidden_states_mask=torch.ones(emb.shape[:2], dtype=torch.long),
                                img_shapes=[shapes], txt_seq_lens=[emb.shape[1]], return_dict=False)[0]
            out.append(v[:, :target_tokens])
        return cfg_norm_rescale(out[0], out[1], SCALE)

    def decode(x: torch.Tensor, tag: str) -> None:
        latent = unpack(x, HEIGHT // 8, WIDTH // 8, z)
        goldens[f"{tag}.latent"] = latent[0, :, 0]
        with torch.no_grad():
            decoded = vae.decode(latent / (1.0 / std) + mean).sample[:, :, 0]
        image = VaeImageProcessor(vae_scale_factor=16).postprocess(decoded, output_type="np")[0]
        goldens[f"{tag}.pixels"] = torch.from_numpy((image * 255).round().astype(np.uint8))

    # Teacher (qwen_image_edit/pipeline_qwenimage_edit.py L780–863): Euler on the shifted, stretched table;
    # the model sees bf16(bf16(σ·1000)/1000) as the bf16 scripts pass it.
    scheduler = FlowMatchEulerDiscreteScheduler(**SCHEDULER)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / STEPS, STEPS), mu=calculate_shift(seq))
    x = pack(start)
    for i, t in enumerate(scheduler.timesteps):
        timestep = float((t.to(torch.bfloat16) / 1000).to(torch.bfloat16))
        v = velocity(x, timestep)
        if i == 0:
            goldens["teacher.velocity_0"] = v[0]
        x = scheduler.step(v, t, x, return_dict=False)[0]
    decode(x, "teacher")

    # Distilled (qwen_image_edit_fast L780–867): τ = bf16(t_k) passed without /1000; x0 then re-noise.
    times = distilled_times(STEPS, seq)
    x = pack(start)
    for k in range(STEPS):
        tau = float(torch.tensor(float(times[k]), dtype=torch.bfloat16))
        v = velocity(x, tau)
        x0 = x - tau * v
        following = float(times[k + 1])
        x = (1 - following) * x0 + following * pack(renoise[k])
    decode(x, "distilled")

    OUT.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in goldens.items()}, str(OUT / "golden.safetensors"), metadata={"format": "pt"})
    meta = {"width": WIDTH, "height": HEIGHT, "steps": STEPS, "scale": SCALE, "transformer": TRANSFORMER_E2E,
            "instruction": prompt.INSTRUCTION, "input_sizes": prompt.SIZES,
            "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in goldens.items()}}
    (OUT / "golden.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
