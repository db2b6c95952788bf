import { InvalidInputError } from '../../../errors/invalid-input-error.js';

/** `QwenEmbedRope` precomputes 4096 positions per sign; text rows past that do not exist. */
export const QWEN_ROPE_POSITIONS = 4096;

export interface PackedGrid {
  /** Packed rows (latent height / 2). */
  readonly height: number;
  /** Packed columns (latent width / 2). */
  readonly width: number;
}

export interface RopeTables {
  /** `[N_image, D/2]` row-major, the target's tokens first, then each reference's. */
  readonly imageCos: Float32Array;
  readonly imageSin: Float32Array;
  /** `[textLength, D/2]`. */
  readonly textCos: Float32Array;
  readonly textSin: Float32Array;
  /** Half the head dim: one angle per interleaved pair (x[2j], x[2j+1]). */
  readonly pairs: number;
  /** First text position: max over images of max(h//2, w//2). */
  readonly textOffset: number;
}

/**
 * Host-side rotary tables of the Qwen-Image transformer (diffusers `QwenEmbedRope`, `scale_rope=True`):
 * per axis (frame, height, width) with `axesDims` channels, float32 angles `pos · invFreq` as
 * torch computes them; image `i` uses frame position `i`, centred rows/columns
 * `[-(n − ⌊n/2⌋) … ⌊n/2⌋ − 1]`; text token `k` uses `textOffset + k` on all three axes.
 */
export function qwenRopeTables(grids: readonly PackedGrid[], textLength: number, axesDims: readonly [number, number, number], theta = 10000): RopeTables {
  if (grids.length === 0) throw new InvalidInputError('at least the target grid is needed');
  const inverse = axesDims.map((dim) => inverseFrequencies(dim, theta));
  const pairs = inverse.reduce((sum, freqs) => sum + freqs.length, 0);
  const textOffset = Math.max(...grids.map((g) => Math.max(Math.floor(g.height / 2), Math.floor(g.width / 2))));
  if (textOffset + textLength > QWEN_ROPE_POSITIONS || grids.length > QWEN_ROPE_POSITIONS) {
    throw new InvalidInputError(
      `rotary positions run to ${textOffset + textLength}, beyond the ${QWEN_ROPE_POSITIONS} the Qwen-Image transformer defines: shorten the prompt or the inputs`,
    );
  }
  const tokens = grids.reduce((sum, g) => sum + g.height * g.width, 0);
  const imageCos = new Float32Array(tokens * pairs);
  const imageSin = new Float32Array(tokens * pairs);
  let row = 0;
  grids.forEach((grid, index) => {
    for (let y = 0; y < grid.height; y++) {
      for (let x = 0; x < grid.width; x++) {
        writeRow(imageCos, imageSin, row++, pairs, inverse, [index, centred(y, grid.height), centred(x, grid.width)]);
      }
    }
  });
  const textCos = new Float32Array(textLength * pairs);
  const textSin = new Float32Array(textLength * pairs);
  for (let k = 0; k < textLength; k++) {
    const position = textOffset + k;
    writeRow(textCos, textSin, k, pairs, inverse, [position, position, position]);
  }
  return { imageCos, imageSin, textCos, textSin, pairs, textOffset };
}

/** Position of index `i` in a centred axis of length n: first n − ⌊n/2⌋ negatives, then 0…. */
function centred(i: number, n: number): number {
  return i - (n - Math.floor(n / 2));
}

function writeRow(cos: Float32Array, sin: Float32Array, row: number, pairs: number, inverse: Float32Array[], positions: number[]): void {
  let column = row * pairs;
  inverse.forEach((freqs, axis) => {
    for (const freq of freqs) {
      const angle = Math.fround(positions[axis] * freq);
      cos[column] = Math.cos(angle);
      sin[column] = Math.sin(angle);
      column++;
    }
  });
}

/** torch: `1.0 / torch.pow(theta, arange(0, d, 2).float() / d)` in float32. */
function inverseFrequencies(dim: number, theta: number): Float32Array {
  if (dim % 2 !== 0) throw new InvalidInputError(`rotary axis dim ${dim} must be even`);
  const out = new Float32Array(dim / 2);
  for (let j = 0; j < dim / 2; j++) out[j] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * j) / dim)));
  return out;
}
