import { ResourceLimitError } from '../../errors/resource-limit-error.js';
import type { BackendInfo } from '../../spec/backend.js';
import type { Unipic3Manifest } from './manifest.js';

const GB = 1e9;

/**
 * Bytes per parameter of a graph dtype. q4 is the measured 5.13 bits per weight of converted
 * full-width blocks (4-bit blocks with their scales, plus the tensors kept in float: norms, biases).
 */
const BYTES_PER_PARAMETER: Readonly<Record<string, number>> = { fp32: 4, fp16: 2, q4f16: 0.641, q4: 0.641 };

export interface MemoryEstimate {
  /** The transformer's weights at the chosen dtype. */
  readonly weightsBytes: number;
  /** Activations of one block group at a 1024² edit with one reference (fused attention). */
  readonly activationsBytes: number;
  /** Peak during denoising: the text encoder and VAE are released before the transformer runs. */
  readonly peakBytes: number;
}

/**
 * The denoising phase's peak (docs/unipic3.md, "Memory plan"): the transformer weights at the
 * dtype the load chose, plus activations of a 1024² edit with one reference (S ≈ 9.2 k joint
 * tokens × width × ~24 live tensors in fp32 ≈ 2 GB at the published width; scaled by width).
 */
export function estimateUnipic3Memory(manifest: Unipic3Manifest, dtype: string): MemoryEstimate {
  const { transformer } = manifest.config;
  const perParameter = BYTES_PER_PARAMETER[dtype] ?? 4;
  const weightsBytes = transformer.parameters * perParameter;
  const activationsBytes = 9216 * transformer.width * 4 * 24;
  return { weightsBytes, activationsBytes, peakBytes: weightsBytes + activationsBytes };
}

/**
 * Refuses a device whose memory (when the adapter reports it) is below the estimated peak, with the
 * numbers and the ways out: a smaller dtype, or a device with more memory.
 */
export function checkUnipic3Device(manifest: Unipic3Manifest, dtypes: Readonly<Record<string, string>>, info: BackendInfo): void {
  const available = info.limits.deviceMemoryBytes;
  if (available === undefined) return;
  const dtype = dtypes.transformer_in ?? 'fp32';
  const estimate = estimateUnipic3Memory(manifest, dtype);
  if (estimate.peakBytes <= available) return;
  const gb = (bytes: number) => `${(bytes / GB).toFixed(1)} GB`;
  throw new ResourceLimitError(
    `UniPic-3 at ${dtype} needs about ${gb(estimate.peakBytes)} on the device while denoising (${gb(estimate.weightsBytes)} transformer weights + ${gb(estimate.activationsBytes)} activations), ` +
      `but ${info.device} here has ${gb(available)}: load with dtype 'q4' (about 13.1 GB of weights for the published model) or use a GPU with more memory (24 GB holds a 1024² edit at q4)`,
    { details: { limit: 'deviceMemoryBytes', limitBytes: available, neededBytes: estimate.peakBytes, dtype, device: info.device } },
  );
}
