import { planSteps } from '../../src/families/unipic1/mar/mask-schedule.js';
import type { CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';

export interface FlopBreakdown {
  readonly marEncoder: number;
  readonly llm: number;
  readonly marDecoder: number;
  readonly diffusionHead: number;
  readonly vaeDecoder: number;
  readonly total: number;
  /** Weight bytes streamed per image at the given bytes per weight (bandwidth floor). */
  readonly weightReads: number;
}

/**
 * FLOPs of one text-to-image generation (multiply-add = 2 FLOPs), from the structure and the
 * mask schedule: `rows` batch rows (2 with guidance), `iterations` MAR steps, a text prefix of
 * `prefix` tokens. Attention is counted as its two products (QKᵀ and weights·V), causal halved for
 * the LLM; norms, activations and softmax are left out (a few % at these widths).
 */
export function generationFlops(
  structure: CheckpointConfig,
  options: { size: number; iterations: number; rows: number; prefix: number; bytesPerWeight: number },
): FlopBreakdown {
  const { size, iterations, rows, prefix } = options;
  const grid = size / structure.mar.vae_stride;
  const n = grid * grid;
  const buffers = structure.mar.buffer_size;
  const width = structure.mar.encoder_embed_dim;
  const mlp = structure.mar.mlp_ratio * width;
  const vitPerToken = 2 * (3 * width * width + width * width + 2 * width * mlp);
  const vitAttention = (tokens: number) => 2 * 2 * tokens * tokens * width;
  const llm = structure.llm;
  const headDim = llm.hidden_size / llm.num_attention_heads;
  const kvWidth = llm.num_key_value_heads * headDim;
  const llmLayerParams = llm.hidden_size * (2 * llm.hidden_size + 2 * kvWidth) + 3 * llm.hidden_size * llm.intermediate_size;
  const connector = (inFeatures: number, hidden: number, out: number) => 2 * (inFeatures * hidden + hidden * out);
  const head = structure.diffloss;
  const headParams =
    structure.mar.token_embed_dim * head.width +
    256 * head.width +
    head.width * head.width +
    head.z_channels * head.width +
    head.depth * (2 * head.width * head.width + 3 * head.width * head.width) +
    2 * head.width * head.width +
    head.width * 2 * structure.mar.token_embed_dim;

  let marEncoder = 0;
  let llmFlops = 0;
  let marDecoder = 0;
  let diffusionHead = 0;
  for (const step of planSteps(n, iterations)) {
    const tokens = buffers + step.known;
    marEncoder += rows * (structure.mar.encoder_depth * (tokens * vitPerToken + vitAttention(tokens)) + tokens * connector(width, llm.hidden_size, llm.hidden_size));
    // Each image token attends to the prefix and, causally, to the block before it.
    const attention = 2 * 2 * tokens * (prefix + tokens / 2) * llm.num_attention_heads * headDim;
    llmFlops += rows * llm.num_hidden_layers * (2 * tokens * llmLayerParams + attention);
    const all = buffers + n;
    marDecoder +=
      rows *
      (tokens * (connector(llm.hidden_size, llm.hidden_size, width) + 2 * width * width) + structure.mar.decoder_depth * (all * vitPerToken + vitAttention(all)));
    diffusionHead += rows * step.predicted * Number(head.num_sampling_steps) * 2 * headParams;
  }
  const vaeDecoder = vaeDecoderFlops(structure, grid);
  const total = marEncoder + llmFlops + marDecoder + diffusionHead + vaeDecoder;
  // Bandwidth floor: every iteration streams the MAR stacks and the LLM once, every sampler step the head.
  const marParams = (structure.mar.encoder_depth + structure.mar.decoder_depth) * (vitPerToken / 2);
  const weightReads =
    options.bytesPerWeight * (iterations * (marParams + llm.num_hidden_layers * llmLayerParams) + iterations * Number(head.num_sampling_steps) * headParams);
  return { marEncoder, llm: llmFlops, marDecoder, diffusionHead, vaeDecoder, total, weightReads };
}

/** The KL-16 decoder's convolutions and mid attention at a latent grid of `grid`². */
function vaeDecoderFlops(structure: CheckpointConfig, grid: number): number {
  const vae = structure.vae;
  const conv = (inChannels: number, outChannels: number, side: number, kernel = 3) => 2 * kernel * kernel * inChannels * outChannels * side * side;
  const resnet = (inChannels: number, outChannels: number, side: number) =>
    conv(inChannels, outChannels, side) + conv(outChannels, outChannels, side) + (inChannels !== outChannels ? conv(inChannels, outChannels, side, 1) : 0);
  const top = vae.ch * vae.ch_mult[vae.ch_mult.length - 1];
  let side = grid;
  let flops = conv(vae.z_channels, top, side) + 2 * resnet(top, top, side) + 2 * 2 * side ** 4 * top + 4 * conv(top, top, side, 1);
  let channels = top;
  for (let level = vae.ch_mult.length - 1; level >= 0; level--) {
    const out = vae.ch * vae.ch_mult[level];
    for (let block = 0; block <= vae.num_res_blocks; block++) {
      flops += resnet(block === 0 ? channels : out, out, side);
    }
    channels = out;
    if (level !== 0) {
      side *= 2;
      flops += conv(out, out, side);
    }
  }
  return flops + conv(channels, 3, side);
}
