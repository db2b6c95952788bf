import { InvalidInputError } from '../../../errors/invalid-input-error.js';

export const MAX_EDIT_IMAGES = 6;
const PIXEL_BUDGET = 1024;

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Official UniPic-3 input sizing (`qwen_image_edit/pipeline_qwenimage_edit.py`): every input is scaled by `1024 / √Σwh` (one
 * 1024² budget shared by all inputs) with Python's round, then to multiples of 32.
 */
export function budgetSizes(inputs: readonly ImageSize[]): ImageSize[] {
  if (inputs.length < 1 || inputs.length > MAX_EDIT_IMAGES) throw new InvalidInputError(`UniPic-3 edits 1–${MAX_EDIT_IMAGES} images, got ${inputs.length}`);
  for (const { width, height } of inputs) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new InvalidInputError(`bad image size ${width}×${height}`);
  }
  const ratio = PIXEL_BUDGET / Math.sqrt(inputs.reduce((sum, s) => sum + s.width * s.height, 0));
  return inputs.map(({ width, height }) => {
    const w = roundHalfEven(roundHalfEven(width * ratio) / 32) * 32;
    const h = roundHalfEven(roundHalfEven(height * ratio) / 32) * 32;
    if (w < 32 || h < 32) throw new InvalidInputError(`an input of ${width}×${height} shrinks to ${w}×${h} under the shared 1024² budget`);
    return { width: w, height: h };
  });
}

/** The vision-language copy of each budget-resized input: `round(w·28/32) × round(h·28/32)`. */
export function visionSize(size: ImageSize): ImageSize {
  return { width: roundHalfEven((size.width * 28) / 32), height: roundHalfEven((size.height * 28) / 32) };
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
