"""Reruns the goldens in float64 (same bf16-stored weights, same injected noise and posterior
draws) and reports the float32 error of each golden, `max|fp32 - fp64| / max(1, max|fp64|)`, and how
many uint8 pixels move. Writes nothing; the basis for the 1e-4 tolerance in the fixtures README.

    .venv/bin/python -m unipic2_reference.precision_check   (from tools/reference)
"""
from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from .checkpoint_writer import load_checkpoint
from .sampler import RunInputs, run_sampler
from .text_encoding import Tokenizers, encode_prompt
from .tiny_config import DEFAULT_OUT, TINY_STEPS
from .vae_latents import decode, encode, postprocess, sample_latent, scale_latent
from . import prompts


class DictScope:
    def __init__(self, store: dict, prefix: str):
        self.store, self.prefix = store, prefix

    def put(self, name, value):
        self.store[f"{self.prefix}.{name}"] = value.detach().clone() if isinstance(value, torch.Tensor) else value
        return value

    def child(self, suffix):
        return DictScope(self.store, f"{self.prefix}.{suffix}")


def main() -> None:
    torch.set_num_threads(1)
    out = DEFAULT_OUT
    gold = {}
    for file in (out / "golden").glob("*.safetensors"):
        gold.update(load_file(str(file)))
    index = json.loads((out / "index.json").read_text())
    models = load_checkpoint(out / "checkpoint")
    for module in (models.transformer, models.vae, models.encoders.clip_l, models.encoders.clip_g, models.encoders.t5):
        module.double()
    tokenizers = Tokenizers.load(out / "checkpoint")
    torch.set_default_dtype(torch.float64)  # transformers builds CLIP's causal mask in the default dtype
    got: dict[str, torch.Tensor] = {}

    for key, text in prompts.TEXT_GOLDENS.items():
        enc = encode_prompt(text, tokenizers, models.encoders)
        for name in ("clip_l_hidden", "clip_l_pooled", "clip_g_hidden", "clip_g_pooled", "t5_hidden", "prompt_embeds", "pooled"):
            got[f"text.{key}.{name}"] = getattr(enc, name)
        if key in prompts.NO_T5_GOLDENS:
            got[f"text.{key}_no_t5.prompt_embeds"] = encode_prompt(text, tokenizers, models.encoders_no_t5).prompt_embeds

    posterior = encode(models.vae, gold["vae.encode.pixels"].double())
    got["vae.encode.mean"], got["vae.encode.logvar"] = posterior.mean, posterior.logvar
    refs = {"latent_mean": scale_latent(posterior.mean),
            "latent_sample": scale_latent(sample_latent(posterior, gold["vae.encode.eps"].double()))}
    got["vae.encode.latent_mean"], got["vae.encode.latent_sample"] = refs["latent_mean"], refs["latent_sample"]
    decoded = decode(models.vae, gold["vae.decode.latent"].double())
    got["vae.decode.decoded"], got["vae.decode.pixels"] = decoded, torch.from_numpy(postprocess(decoded))

    for name, run in index["runs"].items():
        roles = run["batchOrder"]
        embeds = torch.cat([got[f"{run['textGoldens'][r]}.prompt_embeds"] for r in roles])
        # the no-T5 encodings share the CLIP pooled output with the T5 ones
        pooled = torch.cat([got[f"{run['textGoldens'][r].removesuffix('_no_t5')}.pooled"] for r in roles])
        ref = None
        if "reference" in run:
            ref = refs["latent_sample"] if "sample" in run["reference"] else refs["latent_mean"]
        inputs = RunInputs(noise=gold[f"run.{name}.noise"].double(), prompt_embeds=embeds, pooled=pooled,
                           steps=TINY_STEPS, guidance=run["guidance"], ref_latent=ref)
        run_sampler(models.transformer, models.vae, inputs, DictScope(got, f"run.{name}"),
                    record_blocks_at=(0,) if run["stagesRecordedForStep0"] else ())

    worst = []
    for name, value in got.items():
        if name not in gold or not isinstance(value, torch.Tensor):
            continue
        expected = gold[name]
        if expected.dtype == torch.uint8:
            moved = (expected.long() - value.long()).abs()
            worst.append((name, float(moved.max()), f"{int((moved > 0).sum())} of {moved.numel()} bytes moved"))
        elif expected.dtype == torch.float32:
            err = ((expected.double() - value).abs().max() / max(1.0, value.abs().max().item())).item()
            worst.append((name, err, ""))
    floats = sorted((w for w in worst if not w[0].endswith("pixels")), key=lambda w: -w[1])
    for name, err, _ in floats[:12]:
        print(f"{name:<55} {err:.2e}")
    print(f"... {len(floats)} float32 goldens compared; worst {floats[0][1]:.2e}")
    for name, err, note in (w for w in worst if w[0].endswith("pixels")):
        print(f"{name:<55} max {err:.0f} ({note})")


if __name__ == "__main__":
    main()
