import type { DeviceTensor, HostTensor } from '../spec/backend.js';
import type { LlmConfig } from '../spec/llm-config.js';
import { float32 } from './tensor.js';

/** Past key/values as llm feeds (`past_key_values.{i}.key|value`) from a run's `present.*` outputs. */
export function presentsAsPast(outputs: Record<string, DeviceTensor>): Record<string, DeviceTensor> {
  const past: Record<string, DeviceTensor> = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = tensor;
  }
  return past;
}

export function presentNames(layers: number): (`present.${number}.key` | `present.${number}.value`)[] {
  return Array.from({ length: layers }, (_, i) => [`present.${i}.key` as const, `present.${i}.value` as const]).flat();
}

/** An empty cache (past length 0) for every layer, for a first llm call. */
export function emptyPast(config: { readonly llm: LlmConfig }, rows = 1): Record<string, HostTensor> {
  const { numLayers, numKeyValueHeads, headDim } = config.llm;
  const past: Record<string, HostTensor> = {};
  for (let i = 0; i < numLayers; i++) {
    past[`past_key_values.${i}.key`] = float32([rows, numKeyValueHeads, 0, headDim], new Float32Array(0));
    past[`past_key_values.${i}.value`] = float32([rows, numKeyValueHeads, 0, headDim], new Float32Array(0));
  }
  return past;
}

export function disposeAll(tensors: Record<string, DeviceTensor> | undefined): void {
  for (const t of Object.values(tensors ?? {})) t.dispose();
}
