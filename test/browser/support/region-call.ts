import { encodePng } from '../../../src/core/image/encode-png.js';

/**
 * The region call the browser test makes in the page and on Node: an edit of the input fixture
 * (64×64) with a PNG mask given as a Blob (the browser's file input), feather 0 so the unmasked
 * part must be the source exactly; plus a mask that is not an image, for the typed error.
 */
export const REGION_SETTINGS = { prompt: 'make it blue', size: 64, steps: 2, diffusionSteps: 4, seed: 5, feather: 0 } as const;

/** A 32×32 mask whose right half is white: the right two token columns regenerate. */
export function regionMaskPng(): Uint8Array {
  const data = new Uint8ClampedArray(32 * 32 * 4);
  for (let i = 0; i < 32 * 32; i++) data.set(i % 32 >= 16 ? [255, 255, 255, 255] : [0, 0, 0, 255], i * 4);
  return encodePng(data, 32, 32);
}

export interface RegionOutcome {
  readonly width: number;
  readonly height: number;
  readonly pixels: number[];
  readonly predicting: number[];
  readonly badMask: { readonly code?: string; readonly problem?: string };
}

interface RegionModel {
  edit(options: typeof REGION_SETTINGS & { image: Uint8Array; mask: Blob | Uint8Array }): AsyncIterable<{ type: string; predicting?: number }> & {
    result: Promise<{ images: readonly { width: number; height: number; data: Uint8ClampedArray }[] }>;
  };
}

export async function runRegion(model: RegionModel, image: Uint8Array): Promise<RegionOutcome> {
  const run = model.edit({ ...REGION_SETTINGS, image: image.slice(), mask: new Blob([regionMaskPng() as BlobPart], { type: 'image/png' }) });
  const predicting: number[] = [];
  for await (const event of run) if (event.type === 'step-start') predicting.push(event.predicting ?? -1);
  const [output] = (await run.result).images;
  const failed = await model.edit({ ...REGION_SETTINGS, image: image.slice(), mask: new TextEncoder().encode('not an image') }).result.then(
    () => undefined,
    (error: { code?: string; details?: { problem?: string } }) => error,
  );
  return {
    width: output.width,
    height: output.height,
    pixels: Array.from(output.data),
    predicting,
    badMask: { code: failed?.code, problem: failed?.details?.problem },
  };
}
