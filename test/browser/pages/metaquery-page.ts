import { UniPic } from 'unipic';

const ORT_FILES = new URL('/ort/', location.href).href;

export interface MetaqueryPageCall {
  readonly tokens: number[];
  readonly text: string;
  readonly streamed: string;
  readonly reusedImageCache: boolean;
}

export interface MetaqueryPageRun {
  readonly device: string;
  readonly family: string;
  readonly capabilities: string[];
  readonly calls: MetaqueryPageCall[];
}

interface MetaqueryLike {
  readonly family: string;
  readonly capabilities: readonly string[];
  readonly backendInfo: { readonly device: string };
  understand(options: object): AsyncIterable<{ type: string; delta?: string }> & {
    result: Promise<{ tokens: number[]; text: string; reusedImageCache: boolean }>;
  };
  dispose(): Promise<void>;
}

/** `UniPic.load(url)` on the tiny Metaquery folder, then each question (null: the default one) on the same image. */
async function runMetaquery(modelUrl: string, imageUrl: string, device: 'wasm' | 'webgpu', questions: (string | null)[]): Promise<MetaqueryPageRun> {
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
    return { device: model.backendInfo.device, family: model.family, capabilities: [...model.capabilities], calls };
  } finally {
    await model.dispose();
  }
}

Object.assign(globalThis, { runMetaquery, pageReady: true });
