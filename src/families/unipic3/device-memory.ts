import { ResourceLimitError } from '../../errors/resource-limit-error.js';
import type { BackendInfo } from '../../spec/backend.js';
import { BLOCK_GRAPH, type Unipic3Manifest } from './manifest.js';

const GB = 1e9;
const gb = (bytes: number) => `${(bytes / GB).toFixed(1)} GB`;

/**
 * Bytes per parameter of a graph dtype. q4 is the measured 5.13 bits per weight of converted
 * full-width blocks (4-bit blocks with their scales, plus the tensors kept in float: norms, biases).
 */
const BYTES_PER_PARAMETER: Readonly<Record<string, number>> = { fp32: 4, fp16: 2, q4f16: 0.641, q4: 0.641 };
/** Bytes per element of one weight buffer: a q4 weight's 4-bit codes are one initializer, its scales another. */
const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { fp32: 4, fp16: 2, q4f16: 0.5, q4: 0.5 };

export interface MemoryEstimate {
  /** The transformer's weights at the chosen dtype. */
  readonly weightsBytes: number;
  /** Activations of one block group at a 1024² edit with one reference (fused attention). */
  readonly activationsBytes: number;
  /** Peak during denoising: the text encoder and VAE are released before the transformer runs. */
  readonly peakBytes: number;
}

/** A warning for the model's `warning` event. */
export interface DeviceWarning {
  readonly code: string;
  readonly message: string;
}

/**
 * The denoising phase's peak (docs/unipic3.md, "Memory plan"): the transformer weights at the
 * dtype the load chose, plus activations of a 1024² edit with one reference (S ≈ 9.2 k joint
 * tokens × width × ~24 live tensors in fp32 ≈ 2.7 GB at the published width; scaled by width).
 */
export function estimateUnipic3Memory(manifest: Unipic3Manifest, dtype: string): MemoryEstimate {
  const { transformer } = manifest.config;
  const perParameter = BYTES_PER_PARAMETER[dtype] ?? 4;
  const weightsBytes = transformer.parameters * perParameter;
  const activationsBytes = 9216 * transformer.width * 4 * 24;
  return { weightsBytes, activationsBytes, peakBytes: weightsBytes + activationsBytes };
}

/**
 * The largest single weight among the graphs a load uses, at their dtypes: the token embedding
 * table (`embed`), an LLM MLP matrix (`llm`), a block's 6·width × width modulation matrix
 * (`transformer_blocks_*`, internal modulation). The vision tower's, the VAE's and the in/out
 * projections are smaller than these by construction of the architecture.
 */
export function largestUnipic3Weight(manifest: Unipic3Manifest, dtypes: Readonly<Record<string, string>>): { graph: string; bytes: number } | undefined {
  const { llm } = manifest.config.textEncoder;
  const { width } = manifest.config.transformer;
  const elements = (graph: string): number => {
    if (graph === 'embed') return llm.vocabSize * llm.hiddenSize;
    if (graph === 'llm') return llm.intermediateSize * llm.hiddenSize;
    if (BLOCK_GRAPH.test(graph)) return 6 * width * width;
    return 0;
  };
  let largest: { graph: string; bytes: number } | undefined;
  for (const [graph, dtype] of Object.entries(dtypes)) {
    const bytes = elements(graph) * (BYTES_PER_ELEMENT[dtype] ?? 4);
    if (bytes > 0 && (!largest || bytes > largest.bytes)) largest = { graph, bytes };
  }
  return largest;
}

/**
 * Refuses a device that cannot hold a 1024² edit, with the numbers and the ways out; returns a
 * one-line warning when a GPU does not say how much memory it has (the check is then skipped).
 * - total memory (node-ort CUDA via nvidia-smi, web-ort wasm's 4 GiB) below the denoising peak;
 * - free memory at load (node-ort CUDA) below it: other processes hold the rest;
 * - WebGPU, which has no memory API: the largest weight above the per-buffer limits.
 */
export function checkUnipic3Device(manifest: Unipic3Manifest, dtypes: Readonly<Record<string, string>>, info: BackendInfo): DeviceWarning[] {
  const dtype = dtypes.transformer_in ?? 'fp32';
  const estimate = estimateUnipic3Memory(manifest, dtype);
  const { limits, device } = info;
  const need = `UniPic-3 at ${dtype} needs about ${gb(estimate.peakBytes)} on the device while denoising (${gb(estimate.weightsBytes)} transformer weights + ${gb(estimate.activationsBytes)} activations)`;
  const wayOut =
    dtype === 'q4' || dtype === 'q4f16'
      ? 'use a GPU with more memory (24 GB holds a 1024² edit at q4)'
      : "load with dtype 'q4' (about 13.1 GB of weights for the published model) or use a GPU with more memory (24 GB holds a 1024² edit at q4)";
  const details = { neededBytes: estimate.peakBytes, dtype, device };
  if (limits.deviceMemoryBytes !== undefined && limits.deviceMemoryBytes < estimate.peakBytes) {
    throw new ResourceLimitError(`${need}, but ${device} here has ${gb(limits.deviceMemoryBytes)}: ${wayOut}`, {
      details: { limit: 'deviceMemoryBytes', limitBytes: limits.deviceMemoryBytes, ...details },
    });
  }
  if (limits.deviceFreeMemoryBytes !== undefined && limits.deviceFreeMemoryBytes < estimate.peakBytes) {
    throw new ResourceLimitError(
      `${need}, but ${device} here has ${gb(limits.deviceFreeMemoryBytes)} free of ${gb(limits.deviceMemoryBytes ?? limits.deviceFreeMemoryBytes)} (other processes hold the rest): ` +
        `free the GPU, pick another one (extra.deviceId), or ${wayOut}`,
      { details: { limit: 'deviceFreeMemoryBytes', limitBytes: limits.deviceFreeMemoryBytes, ...details } },
    );
  }
  checkBufferLimits(manifest, dtypes, info);
  if (limits.deviceMemoryBytes !== undefined || (device !== 'cuda' && device !== 'webgpu')) return [];
  const why = limits.deviceMemoryUnknown ?? 'the backend does not report device memory';
  return [{ code: 'device-memory-unknown', message: `${need}; not checked (${why})` }];
}

/** WebGPU: a weight larger than one buffer (or one storage binding) can never be uploaded or bound. */
function checkBufferLimits(manifest: Unipic3Manifest, dtypes: Readonly<Record<string, string>>, info: BackendInfo): void {
  const { maxBufferBytes, maxStorageBufferBindingBytes } = info.limits;
  const candidates = [
    { limit: 'maxBufferBytes' as const, bytes: maxBufferBytes },
    { limit: 'maxStorageBufferBindingBytes' as const, bytes: maxStorageBufferBindingBytes },
  ].filter((entry): entry is { limit: 'maxBufferBytes' | 'maxStorageBufferBindingBytes'; bytes: number } => entry.bytes !== undefined);
  if (candidates.length === 0) return;
  const tightest = candidates.reduce((a, b) => (b.bytes < a.bytes ? b : a));
  const largest = largestUnipic3Weight(manifest, dtypes);
  if (!largest || largest.bytes <= tightest.bytes) return;
  const dtype = dtypes[largest.graph] ?? 'fp32';
  throw new ResourceLimitError(
    `UniPic-3's largest weight (graph ${largest.graph} at ${dtype}) is ${gb(largest.bytes)}, but ${info.device} here takes buffers of at most ${gb(tightest.bytes)} (${tightest.limit}): ` +
      "load with dtype 'q4', or use Node with CUDA",
    { details: { limit: tightest.limit, limitBytes: tightest.bytes, neededBytes: largest.bytes, graph: largest.graph, dtype, device: info.device } },
  );
}
