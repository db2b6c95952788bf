import { InvalidModelError } from '../../../errors/invalid-model-error.js';

/** Fail the conversion when a checkpoint's layer widths disagree with the VAE config. */
export function expectChannels(where: string, actual: number, expected: number): void {
  if (actual !== expected) throw new InvalidModelError(`${where} gives ${actual} channels; the VAE config expects ${expected}`);
}
