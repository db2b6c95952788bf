"""The full sampler runs (text-to-image, edit, understanding) with injected orders and noise."""
from __future__ import annotations

import numpy as np
import torch

from .diffusion_schedule import DiffusionTables
from .golden_store import GoldenStore
from .kl_vae import KlVae
from .mar_sampler import SamplerSettings, run_mar_sampler
from .position_tables import PositionTables
from .prompts import EOS_TOKEN_ID, IMAGE_TOKEN_ID, edit_prompts, generation_prompts, understanding_prompt
from .synthetic_images import stripes, to_model_pixels
from .understanding import greedy_decode, hf_generate
from .unipic_model import UniPicReference

NOISE_LAYOUT = (
    "noise_start [M, 16] and noise_steps [S-1, M, 16] cover the cond rows only (M = numImages x "
    "tokens predicted per row, rows in order, positions ascending); noise_steps[j] is used at "
    "respaced step k = S-1-j (k = 99 .. 1); no draw is used at k = 0."
)


def orders_for(seed: int, images: int, image_tokens: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([rng.permutation(image_tokens) for _ in range(images)]).astype(np.int64))


def _text_embeds(model: UniPicReference, input_ids: torch.Tensor, image_features: torch.Tensor | None) -> torch.Tensor:
    """Token embeddings, with every `<image>` slot (in order) replaced by the image features."""
    embeds = model.embed(input_ids)
    if image_features is not None:
        for row in range(input_ids.shape[0]):
            slots = torch.nonzero(input_ids[row] == IMAGE_TOKEN_ID, as_tuple=False).flatten()
            if len(slots) != image_features.shape[1]:
                raise AssertionError("image slot count does not match the feature count")
            embeds[row, slots] = image_features[0]
    return embeds


@torch.no_grad()
def encode_source(store: GoldenStore, file: str, prefix: str, model, vae: KlVae, tables: PositionTables, image: np.ndarray):
    pixels = torch.from_numpy(to_model_pixels(image))
    latents = vae.encode_tokens(pixels.to(vae.post_quant_conv.weight.dtype))
    tokens = latents.reshape(1, -1, latents.shape[-1])
    x_con = model.mar.encode(tokens, torch.zeros(1, tokens.shape[1], dtype=torch.int64), tables)
    llm_in = model.llm_input(x_con)
    for name, value in [("image", torch.from_numpy(image)), ("pixels", pixels), ("latents", latents), ("x_con", x_con), ("llm_in", llm_in)]:
        store.put(file, f"{prefix}.source.{name}", value)
    return x_con, llm_in


@torch.no_grad()
def write_generation_run(
    store: GoldenStore, name: str, model, vae, tokenizer, schedule: DiffusionTables, tables: PositionTables,
    settings: SamplerSettings, prompt: str, seed: int, edit_image: np.ndarray | None = None,
) -> None:
    file = f"golden/run-{name.replace('_', '-')}.safetensors"
    record = store.scope(file, name)
    image_tokens = tables.grid * tables.grid
    fill, features = None, None
    if edit_image is not None:
        x_con, features = encode_source(store, file, name, model, vae, tables, edit_image)
        fill = model.mar.decoder_embed(x_con)
        record.put("fill", fill)
        rows = 2 * settings.num_images if settings.guided else settings.num_images
        fill = fill.expand(rows, -1, -1)
        prompts = edit_prompts(tokenizer, prompt, image_tokens + model.buffer_size, settings.num_images, settings.guided)
    else:
        prompts = generation_prompts(tokenizer, prompt, settings.num_images, settings.guided)
    embeds = _text_embeds(model, prompts.input_ids, features)
    orders = orders_for(seed, settings.num_images, image_tokens)
    record.put("prompt.input_ids", prompts.input_ids)
    record.put("prompt.attention_mask", prompts.attention_mask)
    record.put("prefix_embeds", embeds)
    record.put("orders", orders)
    noise_generator = torch.Generator().manual_seed(seed)
    summary = run_mar_sampler(model, vae, schedule, tables, settings, embeds, prompts.attention_mask, orders, noise_generator, record, fill)
    store.runs[name] = {
        "kind": "edit" if edit_image is not None else "text-to-image",
        "file": file,
        "settings": settings.describe(),
        "diffusionSteps": schedule.steps,
        "prompt": prompt,
        "seed": seed,
        "promptTexts": prompts.texts,
        "validLengths": prompts.attention_mask.sum(dim=1).tolist(),
        "imageTokens": image_tokens,
        "noiseLayout": NOISE_LAYOUT,
        **summary,
    }


@torch.no_grad()
def write_understanding_run(store: GoldenStore, name: str, model, vae, tokenizer, tables: PositionTables, question: str, max_new_tokens: int, generation_config: dict) -> None:
    file = f"golden/run-{name.replace('_', '-')}.safetensors"
    _, features = encode_source(store, file, name, model, vae, tables, stripes(tables.grid * 16))
    prompts = understanding_prompt(tokenizer, question, features.shape[1])
    embeds = _text_embeds(model, prompts.input_ids, features)
    store.put(file, f"{name}.prompt.input_ids", prompts.input_ids)
    store.put(file, f"{name}.prompt_embeds", embeds)
    plain = greedy_decode(model, embeds, max_new_tokens, EOS_TOKEN_ID, 1.0, store.scope(file, f"{name}.greedy"))
    penalised = greedy_decode(
        model, embeds, max_new_tokens, EOS_TOKEN_ID, generation_config["repetition_penalty"], store.scope(file, f"{name}.greedy_rp")
    )
    # transformers' own generate must agree: plain greedy without a generation config, and the
    # repetition-penalised one when Qwen's generation_config.json sits in the LLM folder.
    if hf_generate(model, embeds, max_new_tokens, None) != plain["tokenIds"]:
        raise AssertionError("greedy loop differs from transformers generate")
    if hf_generate(model, embeds, max_new_tokens, generation_config) != penalised["tokenIds"]:
        raise AssertionError("repetition-penalised loop differs from transformers generate")
    store.runs[name] = {
        "kind": "understanding",
        "file": file,
        "imageSize": tables.grid * 16,
        "question": question,
        "promptText": prompts.texts[0],
        "maxNewTokens": max_new_tokens,
        "greedy": {**plain, "repetitionPenalty": 1.0, "text": tokenizer.decode(plain["tokenIds"])},
        "greedy_rp": {**penalised, "repetitionPenalty": generation_config["repetition_penalty"], "text": tokenizer.decode(penalised["tokenIds"])},
    }
