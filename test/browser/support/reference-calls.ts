/**
 * The calls every browser test makes, shared by the Node reference run and the pages, and the
 * plain-data shape their outcomes take so they can cross `page.evaluate` and be compared.
 * Settings are the cheapest that still exercise every graph: size 64 (a 4×4 grid), two MAR
 * iterations, four diffusion steps, greedy text.
 */
export const CALL_SETTINGS = {
  understand: { prompt: 'Describe this image.', maxTokens: 4, size: 64 },
  generate: { prompt: 'a red fox in the snow', size: 64, steps: 2, diffusionSteps: 4, seed: 11 },
  edit: { prompt: 'make it blue', size: 64, steps: 2, diffusionSteps: 4, seed: 5 },
} as const;

/** The image the understand and edit calls read (a PNG fixture, sent as bytes). */
export const INPUT_IMAGE_FIXTURE = 'rgb-64x64.png';

export interface CallOutcomes {
  readonly understand: { readonly text: string; readonly tokens: number[]; readonly deltas: string };
  readonly generate: { readonly width: number; readonly height: number; readonly pixels: number[]; readonly steps: number };
  readonly edit: { readonly width: number; readonly height: number; readonly pixels: number[]; readonly steps: number };
  /** Wall-clock milliseconds per call, for the record. */
  readonly milliseconds: { readonly understand: number; readonly generate: number; readonly edit: number };
}

/** Largest and mean absolute difference of two pixel arrays of the same length. */
export function pixelDifference(a: readonly number[], b: readonly number[]): { max: number; mean: number } {
  if (a.length !== b.length) throw new Error(`pixel arrays differ in length: ${a.length} vs ${b.length}`);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const difference = Math.abs(a[i] - b[i]);
    max = Math.max(max, difference);
    sum += difference;
  }
  return { max, mean: sum / a.length };
}

/** The part of a model (in-page `UniPic`, or a `WorkerModel`) these calls use. */
export interface CallableModel {
  understand(options: typeof CALL_SETTINGS.understand & { image: Uint8Array }): AsyncIterable<{ type: string; delta?: string }> & {
    result: Promise<{ text: string; tokens: readonly number[] }>;
  };
  generate(options: typeof CALL_SETTINGS.generate): ImageCall;
  edit(options: typeof CALL_SETTINGS.edit & { image: Uint8Array }): ImageCall;
}

type ImageCall = AsyncIterable<{ type: string }> & {
  result: Promise<{ images: readonly { width: number; height: number; data: Uint8ClampedArray }[] }>;
};

async function imageOutcome(run: ImageCall): Promise<CallOutcomes['generate']> {
  let steps = 0;
  for await (const event of run) if (event.type === 'step-finish') steps++;
  const [image] = (await run.result).images;
  return { width: image.width, height: image.height, pixels: Array.from(image.data), steps };
}

/** Understand, generate, then edit, in that order, with CALL_SETTINGS; `image` is copied per call. */
export async function runCalls(model: CallableModel, image: Uint8Array): Promise<CallOutcomes> {
  const started = Date.now();
  const understandRun = model.understand({ ...CALL_SETTINGS.understand, image: image.slice() });
  let deltas = '';
  for await (const event of understandRun) if (event.type === 'text-delta') deltas += event.delta;
  const understood = await understandRun.result;
  const understoodAt = Date.now();
  const generate = await imageOutcome(model.generate({ ...CALL_SETTINGS.generate }));
  const generatedAt = Date.now();
  const edit = await imageOutcome(model.edit({ ...CALL_SETTINGS.edit, image: image.slice() }));
  const milliseconds = { understand: understoodAt - started, generate: generatedAt - understoodAt, edit: Date.now() - generatedAt };
  return { understand: { text: understood.text, tokens: [...understood.tokens], deltas }, generate, edit, milliseconds };
}
