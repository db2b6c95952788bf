"""Writes test/fixtures/unipic3: the tiny checkpoint (published layouts) and the goldens + index.json.
Run through regenerate.sh (CPU, float32 compute on the bf16-stored weights)."""
from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import diffusers
import torch
from diffusers import AutoencoderKLQwenImage, QwenImageEditPipeline

from unipic2_reference.golden_store import GoldenStore

from . import schedule
from .checkpoint import build, perturb_norms, write
from . import sdpa_shim
from .sizing import budget_sizes
from .tiny_config import REFERENCE_GRIDS, SCHEDULER, TARGET_GRID, TEXT_LENGTH, TRANSFORMER, VAE_FULL
from .vae2d import Vae2d

ROOT = Path(__file__).resolve().parents[3] / "test" / "fixtures" / "unipic3"


def rng(stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(1000 + stream)


def pack(latents: torch.Tensor) -> torch.Tensor:
    """Qwen-Image latent packing of [B,C,1,h,w] → [B, hw/4, 4C]; must equal diffusers' _pack_latents."""
    b, c, _, h, w = latents.shape
    mine = latents.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, h * w // 4, c * 4)
    theirs = QwenImageEditPipeline._pack_latents(latents, b, c, h, w)
    assert torch.equal(mine, theirs)
    return mine


def vae_goldens(store: GoldenStore, modules, report: dict) -> None:
    g = store.scope("golden/vae.safetensors", "vae")
    vae = modules["vae"]
    image = torch.rand(1, 3, 48, 32, generator=rng(1)) * 2 - 1
    g.put("image", image)
    with torch.no_grad():
        mean3d = vae.encode(image.unsqueeze(2)).latent_dist.mean[:, :, 0]
        g.put("encoder_mean", mean3d)
        mean = torch.tensor(VAE_FULL["latents_mean"]).view(1, -1, 1, 1)
        std = torch.tensor(VAE_FULL["latents_std"]).view(1, -1, 1, 1)
        g.put("latents_normalized", (mean3d - mean) / std)  # encode side (official L456–466)
        z = torch.randn(1, 16, 5, 4, generator=rng(2))
        g.put("decoder_input_normalized", z)
        unnormalized = z / (1.0 / std) + mean  # decode side: division by the reciprocal, as the official pipeline does
        g.put("decoder_input", unnormalized)
        decoded = vae.decode(unnormalized.unsqueeze(2)).sample[:, :, 0]
        g.put("decoded", decoded)
    report["vae_decoded_fraction_clamped"] = float((decoded.abs() >= 1).float().mean())
    proof = {}
    # The brief's full-fidelity width (base_dim 16) too: proven here, not committed (7.2 MB bf16).
    torch.manual_seed(7)
    wide = AutoencoderKLQwenImage(**{**VAE_FULL, "base_dim": 16})
    perturb_norms(wide, torch.Generator().manual_seed(8))
    wide = wide.to(torch.bfloat16).to(torch.float32).eval()
    for name, module in (("vae", modules["vae"]), ("vae_df_test", modules["vae_df_test"]), ("vae_base_dim_16", wide)):
        flat = Vae2d(module.state_dict(), module.config)
        z_dim = module.config.z_dim
        scale = 2 ** (len(module.config.dim_mult) - 1)
        picture = torch.rand(2, 3, 8 * scale, 6 * scale, generator=rng(3)) * 2 - 1
        latent = torch.randn(2, z_dim, 8, 6, generator=rng(4))
        with torch.no_grad():
            enc3 = module.encode(picture.unsqueeze(2)).latent_dist.mean[:, :, 0]
            dec3 = module.decode(latent.unsqueeze(2)).sample[:, :, 0]
            enc2, dec2 = flat.encode_mean(picture), flat.decode(latent)
        proof[name] = {"encode_max_abs_diff": float((enc3 - enc2).abs().max()),
                       "encode_max_abs": float(enc3.abs().max()),
                       "decode_max_abs_diff": float((dec3 - dec2).abs().max())}
        assert proof[name]["encode_max_abs_diff"] < 1e-4 and proof[name]["decode_max_abs_diff"] < 1e-4, proof
    report["vae_3d_vs_2d"] = proof


def transformer_goldens(store: GoldenStore, modules, report: dict) -> None:
    g = store.scope("golden/transformer.safetensors", "transformer")
    model = modules["transformer"]
    grids = [TARGET_GRID, *REFERENCE_GRIDS]
    c = TRANSFORMER["in_channels"] // 4
    latents = [torch.randn(1, c, 1, 2 * hp, 2 * wp, generator=rng(10 + i)) for i, (hp, wp) in enumerate(grids)]
    packed = [pack(x) for x in latents]
    for i, (x, p) in enumerate(zip(latents, packed)):
        g.put(f"latent_{i}", x[:, :, 0])
        g.put(f"packed_{i}", p)
    unpacked = QwenImageEditPipeline._unpack_latents(packed[0], 16 * TARGET_GRID[0], 16 * TARGET_GRID[1], 8)
    assert torch.equal(unpacked, latents[0])
    hidden = torch.cat(packed, dim=1)
    text = torch.randn(1, TEXT_LENGTH, TRANSFORMER["joint_attention_dim"], generator=rng(20)) * 3
    sigma = 0.7421875
    g.put("hidden_states", hidden)
    g.put("encoder_hidden_states", text)
    g.put("timestep", torch.tensor([sigma]))
    img_shapes = [[(1, hp, wp) for hp, wp in grids]]
    vid, txt = model.pos_embed(img_shapes, [TEXT_LENGTH], device="cpu")
    g.put("rope_image_cos", vid.real.contiguous())
    g.put("rope_image_sin", vid.imag.contiguous())
    g.put("rope_text_cos", txt.real.contiguous())
    g.put("rope_text_sin", txt.imag.contiguous())
    captured = {}
    hooks = [model.time_text_embed.time_proj.register_forward_hook(lambda m, i, o: captured.__setitem__("time_proj", o)),
             model.time_text_embed.register_forward_hook(lambda m, i, o: captured.__setitem__("temb", o)),
             model.txt_in.register_forward_hook(lambda m, i, o: captured.__setitem__("txt_in", o)),
             model.img_in.register_forward_hook(lambda m, i, o: captured.__setitem__("img_in", o))]
    for index, block in enumerate(model.transformer_blocks):
        hooks.append(block.register_forward_hook(
            lambda m, i, o, index=index: captured.__setitem__(f"block_{index}", o)))
    with torch.no_grad():
        out = model(hidden_states=hidden, encoder_hidden_states=text,
                    encoder_hidden_states_mask=torch.ones(1, TEXT_LENGTH), timestep=torch.tensor([sigma]),
                    img_shapes=img_shapes, txt_seq_lens=[TEXT_LENGTH], return_dict=False)[0]
    for hook in hooks:
        hook.remove()
    for name in ("time_proj", "temb", "txt_in", "img_in"):
        g.put(name, captured[name])
    for index in range(TRANSFORMER["num_layers"]):
        txt_out, img_out = captured[f"block_{index}"]
        g.put(f"block_{index}.text", txt_out)
        g.put(f"block_{index}.image", img_out)
    target_tokens = TARGET_GRID[0] * TARGET_GRID[1]
    g.put("output_target", out[:, :target_tokens])
    # One input image: target + one reference (packed latents, RoPE and output).
    one = torch.cat(packed[:2], dim=1)
    shapes_one = [[(1, hp, wp) for hp, wp in grids[:2]]]
    vid1, txt1 = model.pos_embed(shapes_one, [TEXT_LENGTH], device="cpu")
    g.put("one_image.rope_image_cos", vid1.real.contiguous())
    g.put("one_image.rope_image_sin", vid1.imag.contiguous())
    g.put("one_image.rope_text_cos", txt1.real.contiguous())
    g.put("one_image.rope_text_sin", txt1.imag.contiguous())
    with torch.no_grad():
        out1 = model(hidden_states=one, encoder_hidden_states=text, encoder_hidden_states_mask=torch.ones(1, TEXT_LENGTH),
                     timestep=torch.tensor([sigma]), img_shapes=shapes_one, txt_seq_lens=[TEXT_LENGTH],
                     return_dict=False)[0]
    g.put("one_image.output_target", out1[:, :target_tokens])
    # Published rope sizes (axes 16/56/56): small grids but text rows far from 0, where float32
    # inverse frequencies decide the angle's last bits.
    from diffusers.models.transformers.transformer_qwenimage import QwenEmbedRope
    real = QwenEmbedRope(theta=10000, axes_dim=[16, 56, 56], scale_rope=True)
    real_shapes = [[(1, 5, 7), (1, 64, 3)]]
    vid_real, txt_real = real(real_shapes, [300], device="cpu")
    g.put("rope_real.image_cos", vid_real.real[:35].contiguous())
    g.put("rope_real.image_sin", vid_real.imag[:35].contiguous())
    g.put("rope_real.text_cos", txt_real.real.contiguous())
    g.put("rope_real.text_sin", txt_real.imag.contiguous())
    report["rope_max_vid_index"] = {"two_images": max(max(h // 2, w // 2) for h, w in grids),
                                    "one_image": max(max(h // 2, w // 2) for h, w in grids[:2])}


def sampler_goldens(store: GoldenStore, report: dict) -> None:
    g = store.scope("golden/sampler.safetensors", "sampler")
    for steps, seq_len in ((50, 4096), (50, 12), (20, 1024)):
        table = schedule.teacher_sigmas(steps, seq_len)
        spec = schedule.teacher_sigmas_from_spec(steps, seq_len)
        report.setdefault("teacher_table_spec_vs_diffusers", {})[f"{steps}@{seq_len}"] = float((table - spec).abs().max())
        g.put(f"teacher_sigmas.{steps}_{seq_len}", table)
        g.put(f"teacher_mu.{steps}_{seq_len}", torch.tensor([schedule.calculate_shift(seq_len)], dtype=torch.float64))
    for steps, seq_len in ((8, 4096), (4, 4096), (8, 12)):
        g.put(f"distilled_times.{steps}_{seq_len}", schedule.distilled_times(steps, seq_len))
    cond = torch.randn(1, 12, 64, generator=rng(30))
    uncond = torch.randn(1, 12, 64, generator=rng(31))
    g.put("cfg.cond", cond)
    g.put("cfg.uncond", uncond)
    g.put("cfg.scale_4", schedule.cfg_norm_rescale(cond, uncond, 4.0))
    x = torch.randn(1, 12, 64, generator=rng(32))
    v = torch.randn(1, 12, 64, generator=rng(33))
    g.put("step.x", x)
    g.put("step.v", v)
    g.put("teacher_step.50_12_index_3", schedule.teacher_step(v, x, 50, 12, 3))
    noise = torch.randn(1, 12, 64, generator=rng(34))
    g.put("step.noise", noise)
    times = schedule.distilled_times(8, 12)
    after, tau = schedule.distilled_step(v, x, noise, times, 2)
    g.put("distilled_step.8_12_index_2", after)
    g.put("distilled_step.8_12_index_2.tau", tau.reshape(1))
    last, _ = schedule.distilled_step(v, x, noise, times, 7)
    g.put("distilled_step.8_12_index_7", last)


def sizing_goldens(store: GoldenStore) -> None:
    g = store.scope("golden/sizing.safetensors", "sizing")
    cases = [[(1024, 768)], [(512, 512)], [(1920, 1080), (800, 600)], [(333, 777), (640, 480), (1000, 1000)],
             [(256, 256)] * 4 + [(300, 200)], [(1200, 900), (64, 2048), (500, 500), (720, 1280), (640, 640), (99, 101)]]
    for i, inputs in enumerate(cases):
        g.put(f"case_{i}.inputs", torch.tensor(inputs, dtype=torch.int64))
        g.put(f"case_{i}.vae_sizes", torch.tensor(budget_sizes(inputs), dtype=torch.int64))
        g.put(f"case_{i}.vl_sizes", torch.tensor([(round(w * 28 / 32), round(h * 28 / 32)) for w, h in budget_sizes(inputs)],
                                                  dtype=torch.int64))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT)
    args = parser.parse_args()
    sdpa_shim.install()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if args.out.exists():
        shutil.rmtree(args.out / "checkpoint", ignore_errors=True)
        shutil.rmtree(args.out / "golden", ignore_errors=True)
    modules = build()
    write(args.out / "checkpoint", modules)
    store = GoldenStore(args.out)
    report: dict = {}
    vae_goldens(store, modules, report)
    transformer_goldens(store, modules, report)
    sampler_goldens(store, report)
    sizing_goldens(store)
    others = [p for p in (args.out / "checkpoint").rglob("*") if p.is_file()]
    store.write({"versions": {"torch": torch.__version__, "diffusers": diffusers.__version__},
                 "configs": {"transformer": TRANSFORMER, "vae": VAE_FULL, "scheduler": SCHEDULER},
                 "report": report}, others)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
