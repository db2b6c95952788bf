import type { WeightSource } from '../../../../../src/convert/graphs/weights.js';
import { add, gelu, layerNorm, linear, map, silu, softmaxInPlace } from './float64-math.js';

/** float64 oracle for the MAR graphs, written from MAR / timm / UniPic's PyTorch code. */

const EPS = 1e-6;

export interface MarDims {
  encoderWidth: number;
  decoderWidth: number;
  encoderDepth: number;
  decoderDepth: number;
  encoderHeads: number;
  decoderHeads: number;
  bufferSize: number;
  tokenDim: number;
  hidden: number;
}

type Weights = WeightSource;

function dense(w: Weights, x: ArrayLike<number>, rows: number, prefix: string): Float64Array {
  const out = w.shape(`${prefix}.weight`)[0];
  return linear(x, rows, w.float32(`${prefix}.weight`), w.float32(`${prefix}.bias`), out);
}

function norm(w: Weights, x: ArrayLike<number>, rows: number, width: number, prefix: string): Float64Array {
  return layerNorm(x, rows, width, w.float32(`${prefix}.weight`), w.float32(`${prefix}.bias`), EPS);
}

/** timm Attention on one sequence `[rows, width]`. */
function attention(w: Weights, x: Float64Array, rows: number, width: number, heads: number, prefix: string): Float64Array {
  const qkv = dense(w, x, rows, `${prefix}.qkv`);
  const headDim = width / heads;
  const context = new Float64Array(rows * width);
  const scores = new Float64Array(rows);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < rows; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += qkv[i * 3 * width + h * headDim + d] * qkv[j * 3 * width + width + h * headDim + d];
        scores[j] = dot / Math.sqrt(headDim);
      }
      softmaxInPlace(scores);
      for (let d = 0; d < headDim; d++) {
        let sum = 0;
        for (let j = 0; j < rows; j++) sum += scores[j] * qkv[j * 3 * width + 2 * width + h * headDim + d];
        context[i * width + h * headDim + d] = sum;
      }
    }
  return dense(w, context, rows, `${prefix}.proj`);
}

function block(w: Weights, x: Float64Array, rows: number, width: number, heads: number, prefix: string): Float64Array {
  const afterAttention = add(x, attention(w, norm(w, x, rows, width, `${prefix}.norm1`), rows, width, heads, `${prefix}.attn`));
  const hidden = map(dense(w, norm(w, afterAttention, rows, width, `${prefix}.norm2`), rows, `${prefix}.mlp.fc1`), gelu);
  return add(afterAttention, dense(w, hidden, rows, `${prefix}.mlp.fc2`));
}

function mlp(w: Weights, x: ArrayLike<number>, rows: number, prefix: string): Float64Array {
  return dense(w, map(dense(w, x, rows, `${prefix}.0`), silu), rows, `${prefix}.2`);
}

function rows(x: ArrayLike<number>, width: number, start: number, end: number): Float64Array {
  return Float64Array.from({ length: (end - start) * width }, (_, i) => x[start * width + i]);
}

/** One batch row: latents `[K, tokenDim]`, positions `[F+K, W]` → x_enc `[F+K, W]`, llm_in `[K+F, H]`. */
export function marEncoderReference(
  w: Weights,
  dims: MarDims,
  latents: ArrayLike<number>,
  positions: ArrayLike<number>,
): { encoded: Float64Array; llmInput: Float64Array } {
  const { encoderWidth: width, bufferSize: F } = dims;
  const known = latents.length / dims.tokenDim;
  const length = F + known;
  const projected = dense(w, latents, known, 'mar.z_proj');
  const fake = w.float32('mar.fake_latent');
  let x: Float64Array = new Float64Array(length * width);
  for (let r = 0; r < F; r++) for (let c = 0; c < width; c++) x[r * width + c] = fake[c];
  x.set(projected, F * width);
  x = add(x, positions);
  x = norm(w, x, length, width, 'mar.z_proj_ln');
  for (let b = 0; b < dims.encoderDepth; b++) x = block(w, x, length, width, dims.encoderHeads, `mar.encoder_blocks.${b}`);
  const encoded = norm(w, x, length, width, 'mar.encoder_norm');
  const projectedIn = mlp(w, encoded, length, 'proj_in');
  const llmInput = new Float64Array(length * dims.hidden);
  llmInput.set(rows(projectedIn, dims.hidden, F, length), 0);
  llmInput.set(rows(projectedIn, dims.hidden, 0, F), known * dims.hidden);
  return { encoded, llmInput };
}

/**
 * One batch row of the decoder: x_enc `[F+K, W]`, llm_out `[K+F, H]` (image first), slots
 * `[F+K]`, fill `[F+N, W]`, decoder positions `[F+N, W]`, diffusion positions `[N, W]` → z `[N, W]`.
 */
export function marDecoderReference(
  w: Weights,
  dims: MarDims,
  encoded: ArrayLike<number>,
  llmOutput: ArrayLike<number>,
  slots: ArrayLike<number>,
  fill: ArrayLike<number>,
  decoderPositions: ArrayLike<number>,
  diffusionPositions: ArrayLike<number>,
): Float64Array {
  const { decoderWidth: width, bufferSize: F, hidden } = dims;
  const length = slots.length;
  const known = length - F;
  const total = fill.length / width;
  const rotated = new Float64Array(length * hidden);
  rotated.set(rows(llmOutput, hidden, known, length), 0);
  rotated.set(rows(llmOutput, hidden, 0, known), F * hidden);
  const refined = add(encoded, mlp(w, rotated, length, 'proj_out'));
  const embedded = dense(w, refined, length, 'mar.decoder_embed');
  let x: Float64Array = Float64Array.from(fill);
  for (let r = 0; r < length; r++) for (let c = 0; c < width; c++) x[slots[r] * width + c] = embedded[r * width + c];
  x = add(x, decoderPositions);
  for (let b = 0; b < dims.decoderDepth; b++) x = block(w, x, total, width, dims.decoderHeads, `mar.decoder_blocks.${b}`);
  x = norm(w, x, total, width, 'mar.decoder_norm');
  return add(rows(x, width, F, total), diffusionPositions);
}

export function decoderEmbedReference(w: Weights, source: ArrayLike<number>, width: number): Float64Array {
  return dense(w, source, source.length / width, 'mar.decoder_embed');
}
