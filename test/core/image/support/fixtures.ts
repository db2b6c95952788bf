import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/fixtures/images, written by tools/reference/pillow/generate.py (Pillow is the oracle). */
export const FIXTURES = fileURLToPath(new URL('../../../fixtures/images/', import.meta.url));

export interface SourceFixture {
  file: string;
  format: 'png' | 'jpeg' | 'webp';
  pillowMode: string;
  width: number;
  height: number;
  decoded?: string;
  decodedSha256?: string;
  expected?: string;
  decodeExact: boolean;
  note: string;
  orientation?: number;
  transposed?: string;
  transposedWidth?: number;
  transposedHeight?: number;
}

export interface ResizeFixture {
  source: string;
  operation: 'crop2square' | 'expand2square' | 'none';
  width: number;
  height: number;
  output: string;
}

export interface LargeResizeFixture {
  source: string;
  operation: 'crop2square' | 'expand2square';
  width: number;
  height: number;
  sha256: string;
  probes: [number, number, [number, number, number]][];
}

export interface FixtureIndex {
  pillow: string;
  libjpeg_turbo: string;
  libwebp: string;
  sources: SourceFixture[];
  resizes: ResizeFixture[];
  largeResizes: LargeResizeFixture[];
  normalize: number[];
  denormalize: [number, number][];
}

export const index: FixtureIndex = JSON.parse(readFileSync(`${FIXTURES}index.json`, 'utf8'));

export function fixtureBytes(path: string): Uint8Array {
  const buffer = readFileSync(FIXTURES + path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export function fixturePath(path: string): string {
  return FIXTURES + path;
}

/** Largest absolute difference and the first index where it occurs, for readable failures. */
export function compareBytes(actual: ArrayLike<number>, expected: ArrayLike<number>): { max: number; at: number; mean: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ expected ${expected.length}`);
  let max = 0;
  let at = -1;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    sum += difference;
    if (difference > max) {
      max = difference;
      at = i;
    }
  }
  return { max, at, mean: sum / Math.max(1, expected.length) };
}
