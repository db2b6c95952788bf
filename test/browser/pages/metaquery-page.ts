import { UniPic } from 'unipic';

const ORT_FILES = new URL('/ort/', location.href).href;

export interface MetaqueryPageCall {
  readonly tokens: number[];
  readonly text: string;
  readonly streamed: string;
  readonly reusedImageCache: boolean;
}

/** A generate or edit result, as plain arrays (page → test). */
export interface MetaqueryPageImage {
  readonly width: number;
  readonly height: number;
  readonly latent: number[];
  readonly pixels: number[];
  readonly steps: number[];
}

export interface MetaqueryPageRun {
  readonly device: string;
  readonly family: string;
  readonly capabilities: string[];
  readonly calls: MetaqueryPageCall[];
  /** Present when the page was asked for them (the folder has the transformer and VAE). */
  readonly generated?: MetaqueryPageImage;
  readonly edited?: MetaqueryPageImage;
}

/** The generate and edit calls the test makes in Node too (options as plain data, without the image). */
export interface MetaqueryDiffusionCalls {
  readonly generate: object;
  readonly edit: object;
}

type DiffusionHandle = AsyncIterable<{ type: string; step?: number }> & {
  result: Promise<{ width: number; height: number; latent: { data: Float32Array }; images: { data: Uint8ClampedArray }[] }>;
};

interface MetaqueryLike {
  readonly family: string;
  readonly capabilities: readonly string[];
  readonly backendInfo: { readonly device: string };
  understand(options: object): AsyncIterable<{ type: string; delta?: string }> & {
    result: Promise<{ tokens: number[]; text: string; reusedImageCache: boolean }>;
  };
  generate(options: object): DiffusionHandle;
  edit(options: object): DiffusionHandle;
  dispose(): Promise<void>;
}

async function collect(run: DiffusionHandle): Promise<MetaqueryPageImage> {
  const steps: number[] = [];
  for await (const event of run) if (event.type === 'step-finish') steps.push(event.step as number);
  const result = await run.result;
  return { width: result.width, height: result.height, latent: Array.from(result.latent.data), pixels: Array.from(result.images[0].data), steps };
}

/**
 * `UniPic.load(url)` on the tiny Metaquery folder, then each question (null: the default one) on the
 * same image, then, when `diffusion` is given, one generate and one edit of that image.
 */
async function runMetaquery(
  modelUrl: string,
  imageUrl: string,
  device: 'wasm' | 'webgpu',
  questions: (string | null)[],
  diffusion?: MetaqueryDiffusionCalls,
): Promise<MetaqueryPageRun> {
  const model = (await UniPic.load(modelUrl, { device, dtype: 'fp32', backendOptions: { wasmPaths: ORT_FILES, numThreads: 1 } })) as unknown as MetaqueryLike;
  try {
    const image = new Uint8Array(await (await fetch(imageUrl)).arrayBuffer());
    const calls: MetaqueryPageCall[] = [];
    for (const prompt of questions) {
      const run = model.understand({ image, ...(prompt === null ? {} : { prompt }), maxTokens: 10 });
      let streamed = '';
      for await (const event of run) if (event.type === 'text-delta') streamed += event.delta;
      const result = await run.result;
      calls.push({ tokens: result.tokens, text: result.text, streamed, reusedImageCache: result.reusedImageCache });
    }
    const run: MetaqueryPageRun = { device: model.backendInfo.device, family: model.family, capabilities: [...model.capabilities], calls };
    if (!diffusion) return run;
    const generated = await collect(model.generate(diffusion.generate));
    const edited = await collect(model.edit({ ...diffusion.edit, image }));
    return { ...run, generated, edited };
  } finally {
    await model.dispose();
  }
}

Object.assign(globalThis, { runMetaquery, pageReady: true });
