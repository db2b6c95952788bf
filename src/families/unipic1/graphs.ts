import { defineGraphs } from '../../spec/graph-contract.js';
import { LLM_GRAPHS } from '../../spec/llm-graphs.js';

/**
 * UniPic-1's graph contract (docs/model-format.md): every graph's inputs and outputs, declared once.
 * The converter's builders declare the ONNX I/O from it (`contractInput`/`contractOutput`) and the
 * pipelines' `graphs.run(name, feeds)` is typed by it. Named dims: `hidden` (LLM width), `token_dim`
 * (16), `encoder_width`/`decoder_width` (MAR), `diffusion_out` (32), `latent_channels` (16),
 * `condition_width`; the rest are symbolic.
 */
export const UNIPIC1_GRAPHS = defineGraphs({
  ...LLM_GRAPHS,
  mar_encoder: {
    inputs: {
      /** Known tokens, raster order. */
      latents: { type: 'float32', shape: ['batch', 'known', 'token_dim'] },
      /** The F buffer rows of `encoder_pos`, then the rows `F+p` of each known position p. */
      pos_embed: { type: 'float32', shape: ['batch', 'buffer_plus_known', 'encoder_width'] },
    },
    outputs: {
      /** Buffers first. */
      x_enc: { type: 'float32', shape: ['batch', 'buffer_plus_known', 'encoder_width'] },
      /** `proj_in(x_enc)` rotated so image rows come first. */
      llm_in: { type: 'float32', shape: ['batch', 'buffer_plus_known', 'hidden'] },
    },
  },
  mar_decoder: {
    inputs: {
      x_enc: { type: 'float32', shape: ['batch', 'buffer_plus_known', 'encoder_width'] },
      llm_out: { type: 'float32', shape: ['batch', 'buffer_plus_known', 'hidden'] },
      scatter_idx: { type: 'int64', shape: ['batch', 'buffer_plus_known'] },
      fill: { type: 'float32', shape: ['batch', 'buffer_plus_positions', 'decoder_width'] },
      decoder_pos: { type: 'float32', shape: [1, 'buffer_plus_positions', 'decoder_width'] },
      diffusion_pos: { type: 'float32', shape: [1, 'positions', 'decoder_width'] },
    },
    outputs: { z: { type: 'float32', shape: ['batch', 'positions', 'decoder_width'] } },
  },
  decoder_embed: {
    inputs: { x_con: { type: 'float32', shape: ['batch', 'buffer_plus_positions', 'encoder_width'] } },
    outputs: { fill: { type: 'float32', shape: ['batch', 'buffer_plus_positions', 'decoder_width'] } },
  },
  diffusion_head: {
    inputs: {
      x: { type: 'float32', shape: ['tokens', 'token_dim'] },
      /** The original 0..999 timestep. */
      t: { type: 'float32', shape: ['tokens'] },
      c: { type: 'float32', shape: ['tokens', 'condition_width'] },
    },
    outputs: { out: { type: 'float32', shape: ['tokens', 'diffusion_out'] } },
  },
  diffusion_sampler: SAMPLER(),
  diffusion_sampler_plain: SAMPLER(),
  vae_encoder: {
    inputs: { pixels: { type: 'float32', shape: ['batch', 3, 'height', 'width'] } },
    outputs: { latents: { type: 'float32', shape: ['batch', 'grid_height', 'grid_width', 'latent_channels'] } },
  },
  vae_decoder: {
    inputs: { latents: { type: 'float32', shape: ['batch', 'grid_height', 'grid_width', 'latent_channels'] } },
    outputs: { pixels: { type: 'float32', shape: ['batch', 3, 'height', 'width'] } },
  },
});

export type UniPic1Graphs = typeof UNIPIC1_GRAPHS;

/** The fused sampler's I/O (guided and plain alike). */
function SAMPLER() {
  return {
    inputs: {
      x: { type: 'float32', shape: ['tokens', 'token_dim'] },
      c: { type: 'float32', shape: ['condition_rows', 'condition_width'] },
      /** Per-step noise of this block's S steps (the entry of step 0 is ignored). */
      noise: { type: 'float32', shape: ['steps', 'tokens', 'token_dim'] },
      /** Respaced index of the block's first step (99 for a fresh sample). */
      first_step: { type: 'int64', shape: [] },
      guidance: { type: 'float32', shape: [] },
      temperature: { type: 'float32', shape: [] },
    },
    outputs: { x_out: { type: 'float32', shape: ['tokens', 'token_dim'] } },
  } as const;
}
