import { z } from 'zod';
import type { ModelConfig } from '../manifest.js';

/**
 * The structural numbers of a UniPic checkpoint that its weights do not state (head counts, VAE
 * group count...). Same snake_case layout as the official configs and `tiny/tiny-config.json`;
 * a checkpoint folder may carry it as `unipic-config.json`, otherwise the UniPic-1.5B values apply.
 */
export const checkpointConfigSchema = z.object({
  llm: z.object({
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive(),
    rope_theta: z.number().positive(),
    rms_norm_eps: z.number().positive(),
    vocab_size: z.number().int().positive(),
    max_position_embeddings: z.number().int().positive(),
    tie_word_embeddings: z.boolean().default(true),
    bos_token_id: z.number().int().optional(),
    eos_token_id: z.number().int().optional(),
  }),
  mar: z.object({
    img_size: z.number().int().positive(),
    vae_stride: z.number().int().positive(),
    patch_size: z.literal(1),
    encoder_embed_dim: z.number().int().positive(),
    encoder_depth: z.number().int().positive(),
    encoder_num_heads: z.number().int().positive(),
    decoder_embed_dim: z.number().int().positive(),
    decoder_depth: z.number().int().positive(),
    decoder_num_heads: z.number().int().positive(),
    mlp_ratio: z.number().positive(),
    buffer_size: z.number().int().positive(),
    token_embed_dim: z.number().int().positive(),
    layer_norm_eps: z.number().positive().default(1e-6),
    class_num: z.number().int().positive().default(1000),
  }),
  diffloss: z.object({
    width: z.number().int().positive(),
    depth: z.number().int().positive(),
    target_channels: z.number().int().positive(),
    z_channels: z.number().int().positive(),
    num_sampling_steps: z.string().regex(/^\d+$/),
    num_timesteps: z.number().int().positive(),
    noise_schedule: z.literal('cosine'),
    max_beta: z.number().positive(),
  }),
  vae: z.object({
    embed_dim: z.number().int().positive(),
    ch: z.number().int().positive(),
    ch_mult: z.array(z.number().int().positive()).min(1),
    num_res_blocks: z.number().int().positive(),
    z_channels: z.number().int().positive(),
    norm_num_groups: z.number().int().positive(),
    attn_resolution_level: z.number().int().nonnegative(),
    scale: z.number().positive(),
  }),
  resolutions: z.array(z.number().int().positive()).min(1),
  seed: z.number().int().optional(),
});
export type CheckpointConfig = z.infer<typeof checkpointConfigSchema>;

/** UniPic-1.5B: Qwen2.5-1.5B-Instruct, MAR-Huge at 512 px native, KL-16 VAE. */
export const UNIPIC_1_5B: CheckpointConfig = {
  llm: {
    hidden_size: 1536,
    intermediate_size: 8960,
    num_hidden_layers: 28,
    num_attention_heads: 12,
    num_key_value_heads: 2,
    rope_theta: 1_000_000,
    rms_norm_eps: 1e-6,
    vocab_size: 151936,
    max_position_embeddings: 32768,
    tie_word_embeddings: true,
    bos_token_id: 151643,
    eos_token_id: 151645,
  },
  mar: {
    img_size: 512,
    vae_stride: 16,
    patch_size: 1,
    encoder_embed_dim: 1280,
    encoder_depth: 20,
    encoder_num_heads: 16,
    decoder_embed_dim: 1280,
    decoder_depth: 20,
    decoder_num_heads: 16,
    mlp_ratio: 4,
    buffer_size: 64,
    token_embed_dim: 16,
    layer_norm_eps: 1e-6,
    class_num: 1000,
  },
  diffloss: {
    width: 1536,
    depth: 12,
    target_channels: 16,
    z_channels: 1280,
    num_sampling_steps: '100',
    num_timesteps: 1000,
    noise_schedule: 'cosine',
    max_beta: 0.2,
  },
  vae: {
    embed_dim: 16,
    ch: 128,
    ch_mult: [1, 1, 2, 2, 4],
    num_res_blocks: 2,
    z_channels: 16,
    norm_num_groups: 32,
    attn_resolution_level: 4,
    scale: 0.2325,
  },
  resolutions: [512, 1024],
};

/** The manifest's model config for a structure. */
export function toModelConfig(s: CheckpointConfig): ModelConfig {
  return {
    llm: {
      hiddenSize: s.llm.hidden_size,
      intermediateSize: s.llm.intermediate_size,
      numLayers: s.llm.num_hidden_layers,
      numHeads: s.llm.num_attention_heads,
      numKeyValueHeads: s.llm.num_key_value_heads,
      headDim: s.llm.hidden_size / s.llm.num_attention_heads,
      ropeTheta: s.llm.rope_theta,
      rmsNormEps: s.llm.rms_norm_eps,
      vocabSize: s.llm.vocab_size,
      maxPositionEmbeddings: s.llm.max_position_embeddings,
    },
    mar: {
      encoderWidth: s.mar.encoder_embed_dim,
      decoderWidth: s.mar.decoder_embed_dim,
      encoderDepth: s.mar.encoder_depth,
      decoderDepth: s.mar.decoder_depth,
      encoderHeads: s.mar.encoder_num_heads,
      decoderHeads: s.mar.decoder_num_heads,
      bufferSize: s.mar.buffer_size,
      tokenDim: s.mar.token_embed_dim,
      nativeGrid: s.mar.img_size / s.mar.vae_stride,
      vaeStride: s.mar.vae_stride,
    },
    diffusion: {
      width: s.diffloss.width,
      depth: s.diffloss.depth,
      numTimesteps: s.diffloss.num_timesteps,
      samplingSteps: Number(s.diffloss.num_sampling_steps),
      maxBeta: s.diffloss.max_beta,
      schedule: 'cosine',
    },
    vae: { scale: s.vae.scale, latentChannels: s.vae.embed_dim },
    tokens: { imStart: 151644, imEnd: 151645, endOfText: 151643 },
  };
}
