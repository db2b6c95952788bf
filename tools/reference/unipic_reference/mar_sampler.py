"""The MAR sampling loop (official text-to-image and editing scripts) with injected orders and noise, recording every stage
under the graph-contract names. Text-to-image and edit share it; edit only adds a prefix built
from the source image and the `decoder_embed(x_con)` fill."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .diffusion_schedule import DiffusionTables
from .golden_store import GoldenScope
from .kl_vae import KlVae
from .mar_model import gather_encoder_rows, known_position_lists, scatter_indices
from .mask_schedule import linear_cfg_scale, next_masked_count
from .position_tables import PositionTables
from .qwen_llm import iteration_mask_and_positions, run_llm_body
from .token_sampler import TokenNoise, sample_tokens
from .unipic_model import UniPicReference


@dataclass(frozen=True)
class SamplerSettings:
    image_size: int
    num_iter: int
    cfg: float
    cfg_schedule: str  # "constant" | "linear"
    temperature: float
    num_images: int

    @property
    def guided(self) -> bool:
        return self.cfg != 1.0

    def describe(self) -> dict:
        return {
            "imageSize": self.image_size,
            "numIter": self.num_iter,
            "cfg": self.cfg,
            "cfgSchedule": self.cfg_schedule,
            "temperature": self.temperature,
            "numImages": self.num_images,
        }


def to_pixels(decoded: torch.Tensor) -> torch.Tensor:
    """[G, 3, S, S] float -> [G, S, S, 3] uint8: trunc(clamp(127.5x + 128, 0, 255)) in float32."""
    return torch.clamp(127.5 * decoded + 128.0, 0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


@torch.no_grad()
def run_mar_sampler(
    model: UniPicReference,
    vae: KlVae,
    schedule: DiffusionTables,
    tables: PositionTables,
    settings: SamplerSettings,
    prefix_embeds: torch.Tensor,
    prefix_mask: torch.Tensor,
    orders: torch.Tensor,
    noise_generator: torch.Generator,
    record: GoldenScope,
    fill: torch.Tensor | None = None,
) -> dict:
    """prefix_embeds [B, P, H] and prefix_mask [B, P] hold the G cond rows then (guided) the G
    uncond rows; orders [G, N] are the cond rows' permutations (uncond rows reuse them)."""
    mar = model.mar
    images = settings.num_images
    rows = prefix_embeds.shape[0]
    image_tokens = tables.grid * tables.grid
    channels = mar.token_embed_dim
    buffer = mar.buffer_size
    expected_rows = 2 * images if settings.guided else images
    if rows != expected_rows or orders.shape != (images, image_tokens):
        raise ValueError("batch layout does not match the settings")
    full_orders = torch.cat([orders, orders]) if settings.guided else orders

    # Prefill: no mask, positions 0..P−1; pads after the real tokens are harmless.
    prefix_hidden, prefix_past = run_llm_body(model.llm, prefix_embeds, None, None, None)
    record.put("prefix.last_hidden_state", prefix_hidden)
    for layer, (key, value) in enumerate(prefix_past):
        record.put(f"prefix.present.{layer}.key", key)
        record.put(f"prefix.present.{layer}.value", value)

    tokens = torch.zeros(rows, image_tokens, channels, dtype=prefix_embeds.dtype)
    mask = torch.ones(rows, image_tokens, dtype=torch.int64)
    if fill is None:
        fill = mar.mask_token_fill(rows, image_tokens)
    step_counts = []
    for step in range(settings.num_iter):
        scope = record.child(f"iter.{step}")
        scope.put("mask", mask)
        known = known_position_lists(mask)
        known_latents = torch.stack([tokens[row, positions] for row, positions in enumerate(known)])
        pos_embed = gather_encoder_rows(tables.encoder_pos, known, buffer)
        scope.put("latents", known_latents)
        x_enc = scope.put("x_enc", mar.encode_known(known_latents, pos_embed))
        llm_in = scope.put("llm_in", model.llm_input(x_enc))

        attention_mask, position_ids = iteration_mask_and_positions(prefix_mask, llm_in.shape[1])
        scope.put("attention_mask", attention_mask)
        scope.put("position_ids", position_ids)
        llm_out, _ = run_llm_body(model.llm, llm_in, attention_mask, position_ids, prefix_past)
        scope.put("llm_out", llm_out)
        # x_enc + proj_out(rotated llm_out) stays internal to the `mar_decoder` graph; the
        # component goldens (mar.safetensors) keep it for debugging.
        scatter_idx = scope.put("scatter_idx", scatter_indices(mask, buffer))
        z = scope.put("z", mar.decode_scattered(model.with_llm_residual(x_enc, llm_out), scatter_idx, fill, tables))

        masked_now = int(mask[0].sum())
        remaining = next_masked_count(step, settings.num_iter, image_tokens, masked_now)
        mask_next = torch.zeros_like(mask)
        for row in range(rows):
            mask_next[row, full_orders[row, :remaining]] = 1
        to_predict = mask if step == settings.num_iter - 1 else mask ^ mask_next
        positions = torch.stack([torch.nonzero(row, as_tuple=False).flatten() for row in to_predict[:images]])
        scope.put("positions", positions)
        step_counts.append([image_tokens - masked_now, int(positions.shape[1])])

        # Conditions row-major: all cond rows' positions (ascending), then all uncond rows'.
        conditions = z[to_predict.bool()]
        if settings.cfg_schedule == "linear":
            scale = linear_cfg_scale(settings.cfg, image_tokens, remaining)
        elif settings.cfg_schedule == "constant":
            scale = torch.tensor(settings.cfg, dtype=torch.float32)
        else:
            raise ValueError(settings.cfg_schedule)
        scope.put("cfg_scale", scale.reshape(1))
        noise = TokenNoise.draw(noise_generator, images * positions.shape[1], channels, schedule.steps)
        scope.put("noise_start", noise.start)
        scope.put("noise_steps", noise.steps)
        sampled = sample_tokens(
            model.mar.diffloss.net, schedule, conditions, noise, settings.temperature, scale if settings.guided else None
        )
        scope.put("tokens", sampled)

        for row in range(images):
            count = positions.shape[1]
            tokens[row, positions[row]] = sampled[row * count : (row + 1) * count]
        if settings.guided:
            tokens[images:] = tokens[:images]
        mask = mask_next

    grid = tables.grid
    latents = record.put("latents", tokens[:images].reshape(images, grid, grid, channels))
    decoded = record.put("decoded", vae.decode_tokens(latents))
    record.put("pixels", to_pixels(decoded))
    return {"stepCounts": step_counts, "prefixLength": int(prefix_embeds.shape[1])}
