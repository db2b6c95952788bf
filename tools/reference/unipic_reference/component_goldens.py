"""Goldens for each graph of docs/model-format.md on fixed inputs, chained where the contract
chains them: prefill -> MAR iteration over that prefix -> MAR decoder."""
from __future__ import annotations

import torch

from .diffusion_schedule import DiffusionTables
from .golden_store import GoldenStore
from .kl_vae import KlVae
from .mar_model import gather_encoder_rows, known_position_lists, scatter_indices
from .position_tables import PositionTables
from .prompts import generation_prompts
from .qwen_llm import iteration_mask_and_positions, run_llm_body
from .synthetic_images import scene, to_model_pixels
from .token_sampler import TokenNoise, sample_tokens
from .unipic_model import UniPicReference

EMBED_IDS = [0, 1, 198, 872, 77091, 151643, 151644, 151645, 151665, 151935]
HEAD_TIMESTEPS = [999.0, 989.0, 505.0, 61.0, 10.0, 0.0]


@torch.no_grad()
def write_vae_goldens(store: GoldenStore, vae: KlVae, generator: torch.Generator) -> None:
    pixels = torch.from_numpy(to_model_pixels(scene(64)))
    store.put("golden/vae.safetensors", "vae_encoder.pixels", pixels)
    store.put("golden/vae.safetensors", "vae_encoder.latents", vae.encode_tokens(pixels))
    latents = torch.randn(1, 4, 4, 16, generator=generator)
    store.put("golden/vae.safetensors", "vae_decoder.latents", latents)
    store.put("golden/vae.safetensors", "vae_decoder.pixels", vae.decode_tokens(latents))


@torch.no_grad()
def write_table_goldens(store: GoldenStore, tables_by_size: dict[int, PositionTables]) -> None:
    for size, tables in tables_by_size.items():
        store.put("golden/tables.safetensors", f"tables.{size}.encoder_pos", tables.encoder_pos)
        store.put("golden/tables.safetensors", f"tables.{size}.decoder_pos", tables.decoder_pos)
        store.put("golden/tables.safetensors", f"tables.{size}.diffusion_pos", tables.diffusion_pos)


@torch.no_grad()
def write_llm_and_mar_goldens(
    store: GoldenStore, model: UniPicReference, tokenizer, tables: PositionTables, generator: torch.Generator
) -> None:
    llm_file, mar_file = "golden/llm.safetensors", "golden/mar.safetensors"
    ids = torch.tensor([EMBED_IDS])
    store.put(llm_file, "embed.input_ids", ids)
    store.put(llm_file, "embed.inputs_embeds", model.embed(ids))

    # Prefill over a right-padded cond/uncond pair (the uncond row is shorter).
    prompts = generation_prompts(tokenizer, "a small boat on a calm lake", num_images=1, guided=True)
    embeds = model.embed(prompts.input_ids)
    length = embeds.shape[1]
    ones = torch.ones(2, length, dtype=torch.int64)
    positions = torch.arange(length).expand(2, length).contiguous()
    hidden, prefix_past = run_llm_body(model.llm, embeds, ones, positions, None)
    reference, _ = run_llm_body(model.llm, embeds, None, None, None)
    if not torch.equal(hidden, reference):
        raise AssertionError("an all-ones mask must equal the official attention_mask=None prefill")
    store.put(llm_file, "llm_prefill.input_ids", prompts.input_ids)
    store.put(llm_file, "llm_prefill.prompt_mask", prompts.attention_mask)
    store.put(llm_file, "llm_prefill.inputs_embeds", embeds)
    store.put(llm_file, "llm_prefill.attention_mask", ones)
    store.put(llm_file, "llm_prefill.position_ids", positions)
    store.put(llm_file, "llm_prefill.last_hidden_state", hidden)
    for layer, (key, value) in enumerate(prefix_past):
        store.put(llm_file, f"llm_prefill.present.{layer}.key", key)
        store.put(llm_file, f"llm_prefill.present.{layer}.value", value)

    last_hidden = hidden[:1, -1]
    store.put(llm_file, "lm_head.hidden", last_hidden)
    store.put(llm_file, "lm_head.logits", model.lm_head(last_hidden))

    # MAR encoder: two rows knowing different positions (6 of 16 each).
    grid_tokens = tables.grid * tables.grid
    mask = torch.ones(2, grid_tokens, dtype=torch.int64)
    mask[0, [0, 3, 5, 6, 10, 15]] = 0
    mask[1, [1, 2, 7, 8, 9, 12]] = 0
    tokens = torch.randn(2, grid_tokens, 16, generator=generator)
    known = known_position_lists(mask)
    latents = torch.stack([tokens[row, index] for row, index in enumerate(known)])
    pos_embed = gather_encoder_rows(tables.encoder_pos, known, model.buffer_size)
    x_enc = model.mar.encode_known(latents, pos_embed)
    if not torch.equal(x_enc, model.mar.encode(tokens, mask, tables)):
        raise AssertionError("graph-view and full-grid MAR encoder disagree")
    llm_in = model.llm_input(x_enc)
    for name, value in [("mask", mask), ("latents", latents), ("pos_embed", pos_embed), ("x_enc", x_enc), ("llm_in", llm_in)]:
        store.put(mar_file, f"mar_encoder.{name}", value)

    # One MAR iteration of the LLM over the fixed prefix.
    attention_mask, position_ids = iteration_mask_and_positions(prompts.attention_mask, llm_in.shape[1])
    llm_out, presents = run_llm_body(model.llm, llm_in, attention_mask, position_ids, prefix_past)
    store.put(llm_file, "llm_iteration.inputs_embeds", llm_in)
    store.put(llm_file, "llm_iteration.attention_mask", attention_mask)
    store.put(llm_file, "llm_iteration.position_ids", position_ids)
    for layer, (key, value) in enumerate(prefix_past):
        store.put(llm_file, f"llm_iteration.past_key_values.{layer}.key", key)
        store.put(llm_file, f"llm_iteration.past_key_values.{layer}.value", value)
    store.put(llm_file, "llm_iteration.last_hidden_state", llm_out)
    for layer, (key, value) in enumerate(presents):
        store.put(llm_file, f"llm_iteration.present.{layer}.key", key)
        store.put(llm_file, f"llm_iteration.present.{layer}.value", value)

    # MAR decoder, text-to-image fill and edit fill, on the same encoder/LLM outputs.
    scatter_idx = scatter_indices(mask, model.buffer_size)
    x_enc_llm = model.with_llm_residual(x_enc, llm_out)
    source_tokens = torch.randn(1, grid_tokens, 16, generator=generator)
    x_con = model.mar.encode(source_tokens, torch.zeros(1, grid_tokens, dtype=torch.int64), tables)
    edit_fill = model.mar.decoder_embed(x_con)
    store.put(mar_file, "decoder_embed.x_con", x_con)
    store.put(mar_file, "decoder_embed.fill", edit_fill)
    fills = {"mar_decoder": model.mar.mask_token_fill(2, grid_tokens), "mar_decoder_edit": edit_fill.expand(2, -1, -1)}
    for prefix, fill in fills.items():
        store.put(mar_file, f"{prefix}.x_enc", x_enc)
        store.put(mar_file, f"{prefix}.llm_out", llm_out)
        store.put(mar_file, f"{prefix}.scatter_idx", scatter_idx)
        store.put(mar_file, f"{prefix}.fill", fill)
        store.put(mar_file, f"{prefix}.decoder_pos", tables.decoder_pos[None])
        store.put(mar_file, f"{prefix}.diffusion_pos", tables.diffusion_pos[None])
        store.put(mar_file, f"{prefix}.x_enc_llm", x_enc_llm)
        store.put(mar_file, f"{prefix}.z", model.mar.decode_scattered(x_enc_llm, scatter_idx, fill, tables))


@torch.no_grad()
def write_diffusion_goldens(store: GoldenStore, model: UniPicReference, schedule: DiffusionTables, generator: torch.Generator) -> None:
    head_file = "golden/diffusion-head.safetensors"
    net = model.mar.diffloss.net
    width = net.cond_embed.in_features
    x = torch.randn(len(HEAD_TIMESTEPS), 16, generator=generator)
    t = torch.tensor(HEAD_TIMESTEPS, dtype=torch.float32)
    c = torch.randn(len(HEAD_TIMESTEPS), width, generator=generator)
    store.put(head_file, "diffusion_head.x", x)
    store.put(head_file, "diffusion_head.t", t)
    store.put(head_file, "diffusion_head.c", c)
    store.put(head_file, "diffusion_head.out", net(x, t, c))

    # The per-token sampler alone: guided (cfg 3, temperature 1) and unguided (temperature 0.85).
    rows = 3
    for name, cfg, temperature in [("token_sampler_cfg", 3.0, 1.0), ("token_sampler_plain", None, 0.85)]:
        conditions = torch.randn(2 * rows if cfg else rows, width, generator=generator)
        noise = TokenNoise.draw(generator, rows, 16, schedule.steps)
        scale = torch.tensor(cfg, dtype=torch.float32) if cfg else None
        store.put(head_file, f"{name}.conditions", conditions)
        store.put(head_file, f"{name}.noise_start", noise.start)
        store.put(head_file, f"{name}.noise_steps", noise.steps)
        store.put(head_file, f"{name}.cfg_scale", torch.tensor([cfg if cfg else 1.0], dtype=torch.float32))
        store.put(head_file, f"{name}.temperature", torch.tensor([temperature], dtype=torch.float32))
        store.put(head_file, f"{name}.tokens", sample_tokens(net, schedule, conditions, noise, temperature, scale))
