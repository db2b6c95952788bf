import type { DeviceTensor } from '../../spec/backend.js';

/** Past key/values as llm feeds (`past_key_values.{i}.key|value`) from a run's `present.*` outputs. */
export function presentsAsPast(outputs: Record<string, DeviceTensor>): Record<string, DeviceTensor> {
  const past: Record<string, DeviceTensor> = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = tensor;
  }
  return past;
}

export function presentNames(layers: number): string[] {
  return Array.from({ length: layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
}

export function disposeAll(tensors: Record<string, DeviceTensor> | undefined): void {
  for (const t of Object.values(tensors ?? {})) t.dispose();
}
