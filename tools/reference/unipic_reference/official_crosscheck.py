"""Optional cross-check of the fixtures against the official UniPic-1 code (not part of
regeneration, and nothing of that code is copied here): loads the written tiny checkpoint into
the official modules, injects the fixtures' orders and noise into the official `sample()` by
patching its random sources, and prints how far the official outputs are from the goldens.

    PYTHONPATH=<deps with einops, scipy> python -m unipic_reference.official_crosscheck \
        --official <checkout>/UniPic-1 [--fixtures DIR] [--variant]
"""
from __future__ import annotations

import argparse
import json
import sys
import types
from functools import partial
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from .generate import DEFAULT_OUT, make_deterministic
from .prompts import IMAGE_TOKEN_ID
from .tiny_config import TINY_CONFIG_PATH, load_tiny_config
from .variant_goldens import VARIANT_CONFIG


def load_official(official: Path, config):
    sys.path.insert(0, str(official))
    sys.modules["src.builder"] = types.SimpleNamespace(BUILDER=None)
    from src.models.mar import vae as vae_module  # noqa: E402
    from src.models.mar.mar import MAR  # noqa: E402
    from src.models import skywork_unipic_siglip as top  # noqa: E402

    groups = config.vae["norm_num_groups"]
    vae_module.Normalize = lambda channels, num_groups=groups: nn.GroupNorm(groups, channels, eps=1e-6, affine=True)
    mar_config = config.mar
    mar = MAR(
        img_size=mar_config["img_size"], vae_stride=16, patch_size=1,
        encoder_embed_dim=mar_config["encoder_embed_dim"], encoder_depth=mar_config["encoder_depth"],
        encoder_num_heads=mar_config["encoder_num_heads"], decoder_embed_dim=mar_config["decoder_embed_dim"],
        decoder_depth=mar_config["decoder_depth"], decoder_num_heads=mar_config["decoder_num_heads"],
        mlp_ratio=mar_config["mlp_ratio"], norm_layer=partial(nn.LayerNorm, eps=1e-6), vae_embed_dim=16,
        class_num=mar_config["class_num"], buffer_size=mar_config["buffer_size"],
        diffloss_d=config.diffloss["depth"], diffloss_w=config.diffloss["width"], num_sampling_steps="100",
    )
    vae = vae_module.AutoencoderKL.__new__(vae_module.AutoencoderKL)
    nn.Module.__init__(vae)
    vae_config = config.vae
    vae.encoder = vae_module.Encoder(ch=vae_config["ch"], ch_mult=vae_config["ch_mult"], z_channels=16)
    vae.decoder = vae_module.Decoder(ch=vae_config["ch"], ch_mult=vae_config["ch_mult"], z_channels=16)
    vae.use_variational, vae.embed_dim = True, 16
    vae.quant_conv, vae.post_quant_conv = nn.Conv2d(32, 32, 1), nn.Conv2d(16, 16, 1)
    return top, mar, vae


class NoiseFeed:
    """Stands in for torch.randn_like inside the official p_sample loop."""

    def __init__(self):
        self.queue: list[torch.Tensor] = []

    def __call__(self, like: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return self.queue.pop(0) if self.queue else torch.zeros_like(like)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--official", type=Path, required=True)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--variant", action="store_true", help="the issue #13 variant (checkpoint-variant, variant_* runs)")
    arguments = parser.parse_args()
    config = load_tiny_config(VARIANT_CONFIG if arguments.variant else TINY_CONFIG_PATH)
    make_deterministic(config.seed)
    fixtures = arguments.fixtures
    folder = fixtures / ("checkpoint-variant" if arguments.variant else "checkpoint")
    top, mar, vae = load_official(arguments.official, config)
    # The variant is stored in bf16; its goldens use the weights widened to float32, as here.
    state = {k: v.to(torch.float32) for k, v in torch.load(folder / "pytorch_model.bin", weights_only=True).items()}
    mar.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("mar.")}, strict=True)
    vae.load_state_dict(torch.load(folder / "kl16.ckpt", weights_only=True)["model"], strict=True)

    from .unipic_model import UniPicReference

    reference = UniPicReference(config)
    reference.load_state_dict(state, strict=True)
    model = top.SkyworkUnipic.__new__(top.SkyworkUnipic)
    nn.Module.__init__(model)
    model.vae, model.vae_scale, model.llm, model.mar = vae.eval(), config.vae["scale"], reference.llm, mar.eval()
    model.proj_in, model.proj_out = reference.proj_in, reference.proj_out

    feed = NoiseFeed()
    index = json.loads((fixtures / "index.json").read_text())
    report = {}
    for name, run in index["runs"].items():
        if name.startswith("variant_") != arguments.variant:
            continue
        goldens = load_file(str(fixtures / run["file"]))
        if run["kind"] == "understanding":
            _, llm_in = model.extract_visual_feature(model.encode(goldens[f"{name}.source.pixels"]))
            report[f"{name}:source.llm_in"] = float((llm_in - goldens[f"{name}.source.llm_in"]).abs().max())
            continue
        settings = run["settings"]
        guided = settings["cfg"] != 1.0
        orders = goldens[f"{name}.orders"]
        model.mar.sample_orders = lambda bsz, seq_len=None, o=orders: torch.cat([o, o]) if guided else o.clone()
        steps = iter(range(settings["numIter"]))

        def diffloss_sample(z, temperature=1.0, cfg=1.0, steps=steps, goldens=goldens, name=name):
            step = next(steps)
            start, per_step = goldens[f"{name}.iter.{step}.noise_start"], goldens[f"{name}.iter.{step}.noise_steps"]
            half = lambda n: torch.cat([n, torch.zeros_like(n)]) if cfg != 1.0 else n
            feed.queue = [half(n) for n in per_step]
            noise = torch.cat([start, start]) if cfg != 1.0 else start
            sample_fn = model.mar.diffloss.net.forward_with_cfg if cfg != 1.0 else model.mar.diffloss.net.forward
            kwargs = dict(c=z, cfg_scale=cfg) if cfg != 1.0 else dict(c=z)
            out = model.mar.diffloss.gen_diffusion.p_sample_loop(
                sample_fn, noise.shape, noise, clip_denoised=False, model_kwargs=kwargs, progress=False, temperature=temperature
            )
            expected = goldens[f"{name}.iter.{step}.tokens"]
            difference = float((out[: len(expected)] - expected).abs().max())
            report[f"{name}:tokens"] = max(report.get(f"{name}:tokens", 0.0), difference)
            return out

        model.mar.diffloss.sample = diffloss_sample
        grid = int(run["imageTokens"] ** 0.5)
        extra = {}
        if run["kind"] == "edit":
            x_con, z_enc = model.extract_visual_feature(model.encode(goldens[f"{name}.source.pixels"]))
            report[f"{name}:source.x_con"] = float((x_con - goldens[f"{name}.source.x_con"]).abs().max())
            ids = goldens[f"{name}.prompt.input_ids"]
            embeds = reference.llm.get_input_embeddings()(ids)
            embeds[ids == IMAGE_TOKEN_ID] = z_enc.expand(ids.shape[0], -1, -1).flatten(0, 1)
            extra = dict(inputs_embeds=embeds, x_con=x_con.expand(ids.shape[0], -1, -1))
        else:
            extra = dict(input_ids=goldens[f"{name}.prompt.input_ids"])
        original_randn_like, original_cuda = torch.randn_like, torch.Tensor.cuda
        torch.randn_like = feed
        torch.Tensor.cuda = lambda tensor, *args, **kwargs: tensor  # the official loop moves t to CUDA
        try:
            with torch.no_grad():
                pred = model.sample(
                    attention_mask=goldens[f"{name}.prompt.attention_mask"].bool(), num_iter=settings["numIter"],
                    cfg=settings["cfg"], cfg_schedule=settings["cfgSchedule"], temperature=settings["temperature"],
                    image_shape=(grid, grid), **extra,
                )
        finally:
            torch.randn_like, torch.Tensor.cuda = original_randn_like, original_cuda
        report[f"{name}:decoded"] = float((pred - goldens[f"{name}.decoded"]).abs().max())
    for key, value in report.items():
        print(f"{key:40s} max |official - golden| = {value:.3e}")


if __name__ == "__main__":
    main()
