import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../../../src/core/image/decode-png.js';
import type { RgbImage } from '../../../../src/core/image/rgb-image.js';
import { decodeSafetensors } from '../../../../src/formats/safetensors.js';

/** The Metaquery oracle's fixtures (tools/reference/unipic2_mq_reference → test/fixtures/metaquery). */
export const MQ_FIXTURES = fileURLToPath(new URL('../../../fixtures/metaquery/', import.meta.url));
export const MQ_CHECKPOINT = `${MQ_FIXTURES}checkpoint/`;

const file = decodeSafetensors(new Uint8Array(readFileSync(`${MQ_FIXTURES}golden.safetensors`)), 'golden.safetensors');
export const mqNotes = JSON.parse(readFileSync(`${MQ_FIXTURES}golden.json`, 'utf8')) as Record<string, unknown> & {
  tensors: Record<string, { shape: number[]; dtype: string }>;
};

function bytes(name: string): Uint8Array {
  const tensor = file.tensors.get(name);
  if (!tensor) throw new Error(`no golden ${name}`);
  return tensor.bytes.slice();
}

export function mqFloat(name: string): Float32Array {
  return new Float32Array(bytes(name).buffer);
}
export function mqInt(name: string): number[] {
  return Array.from(new BigInt64Array(bytes(name).buffer), Number);
}
export function mqBytes(name: string): Uint8Array {
  return bytes(name);
}
export function mqShape(name: string): number[] {
  return mqNotes.tensors[name].shape;
}

export function testImage(): RgbImage {
  const decoded = decodePng(new Uint8Array(readFileSync(`${MQ_FIXTURES}image.png`)));
  return { width: decoded.width, height: decoded.height, data: decoded.rgb };
}

/** The oracle's float32 rule: max|Δ| / max(1, max|expected|). */
export function scaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(worst, d);
  }
  return worst / scale;
}
