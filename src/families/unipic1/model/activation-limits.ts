import type { CallMemory } from '../../../core/family/model-family.js';
import { ResourceLimitError } from '../../../errors/resource-limit-error.js';
import type { Capability } from '../../../spec/manifest.js';
import type { ModelConfig } from '../manifest.js';

const GIB = 1024 ** 3;

/**
 * What the wasm heap must find room for per byte of scores, beside the weights. Measured in
 * Chromium (docs/browser.md): full-size q4 generate at 1024 px, 1.63 GiB of weights and one
 * 2.06 GiB score tensor (fused MultiHeadAttention), ran out of memory in `mar_decoder`
 * (`std::bad_alloc`) after the load and 96 s of work: the heap also holds the session's working
 * memory and what session creation left behind, and a block that size must be contiguous.
 */
const WASM_SCORE_COPIES = 2;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;

/** What of a call's options sizes its activations. */
export interface CallShape {
  readonly size: number;
  /** generate / edit: guidance 1 runs the conditional rows only. */
  readonly guidance?: number;
  readonly numImages?: number;
}

/**
 * The largest tensor a call allocates: the MAR attention scores `[rows, heads, F + n, F + n]` in
 * float32 (softmax stays float32 in every dtype), F buffer tokens plus n = (size / 16)² image
 * tokens. Understanding encodes the whole image in one row; generate and edit decode every token
 * in each row, two rows per image under guidance. At 1024 px that is 1.03 GiB per row (16 heads,
 * 4160 tokens), against 0.07 GiB at 512 px, and larger than any weight or LLM activation.
 */
export function marScoresBytes(
  config: ModelConfig,
  task: Capability,
  shape: CallShape,
): { bytes: number; rows: number; heads: number; tokens: number; graph: string } {
  const { bufferSize, vaeStride, encoderHeads, decoderHeads } = config.mar;
  const tokens = bufferSize + (shape.size / vaeStride) ** 2;
  const understand = task === 'understand';
  const rows = understand ? 1 : (shape.numImages ?? 1) * (shape.guidance === 1 ? 1 : 2);
  const heads = understand ? encoderHeads : Math.max(encoderHeads, decoderHeads);
  return { bytes: rows * heads * tokens * tokens * 4, rows, heads, tokens, graph: understand ? 'mar_encoder' : 'mar_decoder' };
}

/**
 * Refuses, before the call is queued, a size whose MAR attention scores cannot exist on the device:
 * one tensor past WebGPU's `maxBufferBytes` or `maxStorageBufferBindingBytes` (SwiftShader: both
 * 1 GiB), or, on wasm, twice that tensor plus the task's weights past the 4 GiB all of it shares
 * (the factor is measured, above). Without the check the call fails deep in a run (an
 * `OutOfMemoryError` or a lost WebGPU device) after the load and minutes of work. The message says which smaller call fits.
 */
export function checkActivationLimits(config: ModelConfig, task: Capability, shape: CallShape, memory: CallMemory, sizes: readonly number[]): void {
  const { maxBufferBytes, maxStorageBufferBindingBytes, maxResidentBytes } = memory.info.limits;
  // A tensor must fit one buffer and, to be read by a kernel, one storage binding.
  const bufferLimit =
    maxStorageBufferBindingBytes !== undefined && (maxBufferBytes === undefined || maxStorageBufferBindingBytes < maxBufferBytes)
      ? { limit: 'maxStorageBufferBindingBytes' as const, bytes: maxStorageBufferBindingBytes }
      : maxBufferBytes !== undefined
        ? { limit: 'maxBufferBytes' as const, bytes: maxBufferBytes }
        : undefined;
  const need = (s: CallShape) => {
    const scores = marScoresBytes(config, task, s);
    return { scores, buffer: scores.bytes, resident: WASM_SCORE_COPIES * scores.bytes + memory.weightsBytes };
  };
  const fits = (s: CallShape) => {
    const n = need(s);
    return (bufferLimit === undefined || n.buffer <= bufferLimit.bytes) && (maxResidentBytes === undefined || n.resident <= maxResidentBytes);
  };
  if (fits(shape)) return;
  const { scores, buffer, resident } = need(shape);
  const overBuffer = bufferLimit !== undefined && buffer > bufferLimit.bytes;
  const limit = overBuffer ? bufferLimit.limit : 'maxResidentBytes';
  const limitBytes = (overBuffer ? bufferLimit.bytes : maxResidentBytes) as number;
  const what = `${task} at ${shape.size} px builds MAR attention scores of ${gib(scores.bytes)} (${scores.rows} row${scores.rows === 1 ? '' : 's'} × ${scores.heads} heads × ${scores.tokens}² float32)`;
  const why = overBuffer
    ? `but ${memory.info.device} here ${limit === 'maxBufferBytes' ? 'allocates buffers' : 'binds storage buffers'} of at most ${gib(limitBytes)}`
    : `which, reserved twice (measured: once is not enough) beside this task's ${gib(memory.weightsBytes)} of weights, passes the ${gib(limitBytes)} ${memory.info.device} holds`;
  const smaller = sizes.filter((size) => size < shape.size && fits({ ...shape, size })).sort((a, b) => b - a)[0];
  const ways = [
    ...(smaller !== undefined ? [`size ${smaller}`] : []),
    ...(task !== 'understand' && shape.guidance !== 1 && fits({ ...shape, guidance: 1 }) ? ['guidance 1 (one row per image)'] : []),
    ...(task !== 'understand' && (shape.numImages ?? 1) > 1 && fits({ ...shape, numImages: 1 }) ? ['numImages 1'] : []),
    'Node or a GPU with larger limits',
  ];
  throw new ResourceLimitError(`${what}, ${why}; use ${ways.join(', or ')}`, {
    details: { limit, limitBytes, bytes: overBuffer ? buffer : resident, graph: scores.graph, device: memory.info.device, task, size: shape.size },
  });
}

/** Channels of the KL-16 VAE's full-resolution convolutions (its first encoder level, its last decoder level). */
const VAE_FULL_RESOLUTION_CHANNELS = 128;

/**
 * The column buffer ONNX Runtime's CPU `Conv` unfolds a 3 × 3 convolution into: 9 · C floats per
 * output pixel. At full resolution the one-shot VAE graphs need size² · 128 · 9 · 4 bytes in one
 * block: 1.1 GiB at 512 px, 4.5 GiB at 1024 px, past what wasm32 addresses (measured in Chromium:
 * ORT's SafeInt overflow after two minutes in `vae_encoder`). The strip graphs convolve a few rows at
 * a time; folders converted before them have only the one-shot graphs.
 */
export function vaeColumnBytes(size: number): number {
  return size * size * VAE_FULL_RESOLUTION_CHANNELS * 9 * 4;
}

/**
 * Refuses, before the call is queued, a size whose one-shot VAE convolution cannot exist on a device
 * with an address-space limit (wasm), when the folder has no strip graph for that direction.
 */
export function checkOneShotVae(
  strips: { readonly encoder: boolean; readonly decoder: boolean },
  uses: { readonly encoder: boolean; readonly decoder: boolean },
  size: number,
  memory: CallMemory,
  sizes: readonly number[],
): void {
  const limitBytes = memory.info.limits.maxResidentBytes;
  if (limitBytes === undefined || vaeColumnBytes(size) < limitBytes) return;
  const graph = uses.encoder && !strips.encoder ? 'vae_encoder' : uses.decoder && !strips.decoder ? 'vae_decoder' : undefined;
  if (graph === undefined) return;
  const smaller = sizes.filter((s) => s < size && vaeColumnBytes(s) < limitBytes).sort((a, b) => b - a)[0];
  throw new ResourceLimitError(
    `this folder's ${graph} runs the whole ${size} px image at once, and its full-resolution convolutions unfold into ${gib(vaeColumnBytes(size))} (${size}² pixels × ${VAE_FULL_RESOLUTION_CHANNELS} channels × 9 float32), past the ${gib(limitBytes)} ${memory.info.device} addresses; convert the checkpoint again with this version (it adds strip VAE graphs)${smaller !== undefined ? `, or use size ${smaller}` : ''}, or use Node`,
    { details: { limit: 'maxResidentBytes', limitBytes, bytes: vaeColumnBytes(size), graph, device: memory.info.device, size } },
  );
}
