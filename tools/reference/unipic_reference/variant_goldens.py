"""A UniPic-1 variant checkpoint (issue #13) in the official layout, with end-to-end goldens.

`data/variant-config.json` holds shapes the official classes allow but the released 1.5B does not
use: a MAR decoder narrower and shallower than the encoder, MLP ratio 2, an untied `lm_head`
(`tie_word_embeddings: false`), GQA with 3 query heads per KV head, RoPE theta 1e4, a diffusion
head of its own width and depth. Its Qwen folder ships `data/variant-generation-config.json`
(repetition penalty 1.0, sampling defaults that the official script's `do_sample=False` turns off).

Kept small (the 151936-row embedding and head dominate):
- `pytorch_model.bin` is the whole UniPic state dict in bf16 (the dtype the official model runs
  in); the Qwen folder carries configs only, no weights.
- `kl16.ckpt` is the tiny model's file, byte for byte (git stores it once).
- `unipic-config.json` is partial: only what no tensor shape states (MAR head counts, the VAE's
  GroupNorm groups), which is exactly what the converter asks for.
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import torch
from transformers import GenerationConfig

from .checkpoint_io import TOKENIZER_CONFIG, write_json
from .diffusion_schedule import DiffusionTables
from .golden_store import GoldenStore
from .kl_vae import KlVae
from .mar_sampler import SamplerSettings
from .position_tables import build_position_tables
from .prompts import EOS_TOKEN_ID
from .qwen_llm import shipped_config_json
from .random_init import initialise, initialise_mar_tables, make_head_denoise_like
from .run_goldens import _text_embeds, encode_source, write_generation_run
from .prompts import understanding_prompt
from .synthetic_images import scene, stripes
from .tiny_config import load_tiny_config
from .torch_file import save_reproducibly
from .understanding import greedy_decode, hf_generate
from .unipic_model import UniPicReference

DATA = Path(__file__).resolve().parent / "data"
VARIANT_CONFIG = DATA / "variant-config.json"
VARIANT_GENERATION_CONFIG = DATA / "variant-generation-config.json"
FOLDER = "checkpoint-variant"
PREFIX = "variant"
# Only what tensor shapes cannot state: MAR head counts, the VAE's GroupNorm groups.
SIDE_CONFIG = {"mar": {"encoder_num_heads": 4, "decoder_num_heads": 2}, "vae": {"norm_num_groups": 4}}


def _generator(seed: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1000 + stream)


def _build(config) -> UniPicReference:
    model = UniPicReference(config)
    initialise(model, _generator(config.seed, 0))
    initialise_mar_tables(model.mar, _generator(config.seed, 100))
    make_head_denoise_like(model.mar.diffloss.net, _generator(config.seed, 200))
    return model.eval()


def _write_checkpoint(model: UniPicReference, folder: Path, base_vae_file: Path, config) -> None:
    state = copy.deepcopy(model).to(torch.bfloat16).state_dict()
    if state["llm.lm_head.weight"].data_ptr() == state["llm.model.embed_tokens.weight"].data_ptr():
        raise AssertionError("the variant's lm_head must be untied")
    save_reproducibly(state, folder / "pytorch_model.bin")
    shutil.copyfile(base_vae_file, folder / "kl16.ckpt")
    write_json(folder / "unipic-config.json", SIDE_CONFIG)
    qwen = folder / "Qwen2.5-1.5B-Instruct"
    write_json(qwen / "config.json", shipped_config_json(config.llm))
    shutil.copyfile(TOKENIZER_CONFIG, qwen / "tokenizer_config.json")
    shutil.copyfile(VARIANT_GENERATION_CONFIG, qwen / "generation_config.json")


def _reload(config, folder: Path) -> tuple[UniPicReference, KlVae]:
    """The goldens use the weights as a converter reads them: bf16 widened to float32."""
    model, vae = UniPicReference(config), KlVae(config.vae)
    state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    model.load_state_dict({key: value.to(torch.float32) for key, value in state.items()}, strict=True)
    vae.load_state_dict(torch.load(folder / "kl16.ckpt", map_location="cpu", weights_only=True)["model"], strict=True)
    if model.llm.lm_head.weight.data_ptr() == model.llm.model.embed_tokens.weight.data_ptr():
        raise AssertionError("lm_head must stay untied")
    if torch.equal(model.llm.lm_head.weight, model.llm.model.embed_tokens.weight):
        raise AssertionError("an untied head equal to the embedding would not test anything")
    return model.eval(), vae.eval()


@torch.no_grad()
def _sampling_scores(model: UniPicReference, embeds: torch.Tensor, generation_config: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Step-0 scores after transformers' processors when a caller turns sampling on and the
    generation config supplies temperature / top-k / top-p: (kept ids, their scores)."""
    model.llm.generation_config = GenerationConfig(**generation_config)
    torch.manual_seed(0)
    output = model.llm.generate(
        inputs_embeds=embeds, use_cache=True, do_sample=True, max_new_tokens=1, eos_token_id=EOS_TOKEN_ID,
        pad_token_id=151643, output_scores=True, return_dict_in_generate=True,
    )
    scores = output.scores[0][0]
    kept = torch.nonzero(torch.isfinite(scores), as_tuple=False).flatten()
    return kept.to(torch.int64), scores[kept].to(torch.float32)


@torch.no_grad()
def _write_understanding(store: GoldenStore, name: str, model, vae, tokenizer, tables, generation_config: dict) -> None:
    file = f"golden/run-{name.replace('_', '-')}.safetensors"
    _, features = encode_source(store, file, name, model, vae, tables, stripes(tables.grid * 16))
    prompts = understanding_prompt(tokenizer, "Describe the image in detail.", features.shape[1])
    embeds = _text_embeds(model, prompts.input_ids, features)
    store.put(file, f"{name}.prompt.input_ids", prompts.input_ids)
    penalty = generation_config["repetition_penalty"]
    decoded = greedy_decode(model, embeds, 8, EOS_TOKEN_ID, penalty, store.scope(file, f"{name}.greedy"))
    # The official script: generate(do_sample=False, eos_token_id=151645, max_new_tokens=…) over a
    # model whose generation_config.json is the variant's.
    if hf_generate(model, embeds, 8, generation_config) != decoded["tokenIds"]:
        raise AssertionError("variant greedy loop differs from transformers generate")
    kept_ids, kept_scores = _sampling_scores(model, embeds, generation_config)
    store.put(file, f"{name}.sampling.kept_ids", kept_ids)
    store.put(file, f"{name}.sampling.kept_scores", kept_scores)
    store.runs[name] = {
        "kind": "understanding",
        "file": file,
        "imageSize": tables.grid * 16,
        "maxNewTokens": 8,
        "generationConfig": generation_config,
        "greedy": {**decoded, "repetitionPenalty": penalty, "text": tokenizer.decode(decoded["tokenIds"])},
        "sampling": {"note": "step-0 scores after transformers' processors with do_sample=True: finite ids and values"},
    }


def write_variant(out: Path, store: GoldenStore, tokenizer, schedule: DiffusionTables) -> Path:
    config = load_tiny_config(VARIANT_CONFIG)
    folder = out / FOLDER
    _write_checkpoint(_build(config), folder, out / "checkpoint" / "kl16.ckpt", config)
    model, vae = _reload(config, folder)
    tables = {size: build_position_tables(model.mar, config.grid_for(size)) for size in (64, 128)}
    for size, table in tables.items():
        for part in ("encoder_pos", "decoder_pos", "diffusion_pos"):
            store.put("golden/variant-tables.safetensors", f"{PREFIX}.tables.{size}.{part}", getattr(table, part))
    write_generation_run(
        store, f"{PREFIX}_t2i_64", model, vae, tokenizer, schedule, tables[64],
        SamplerSettings(64, 4, 3.0, "constant", 1.0, 1), "a red fox sitting in fresh snow", 21,
    )
    write_generation_run(
        store, f"{PREFIX}_edit_64", model, vae, tokenizer, schedule, tables[64],
        SamplerSettings(64, 4, 3.0, "constant", 0.85, 1), "Make the sky purple.", 22, scene(64),
    )
    _write_understanding(store, f"{PREFIX}_understand_64", model, vae, tokenizer, tables[64], json.loads(VARIANT_GENERATION_CONFIG.read_text()))
    return folder


def describe_variant() -> dict:
    """The index's `variants` entry: where the checkpoint is and what it varies."""
    return {
        PREFIX: {
            "checkpoint": FOLDER,
            "config": "tools/reference/unipic_reference/data/variant-config.json",
            "sideConfig": SIDE_CONFIG,
            "runs": [f"{PREFIX}_t2i_64", f"{PREFIX}_edit_64", f"{PREFIX}_understand_64"],
        }
    }
