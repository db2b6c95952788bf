import { UniPic } from 'unipic';

const ORT_FILES = new URL('/ort/', location.href).href;

export interface KontextPageRun {
  readonly device: string;
  readonly capabilities: string[];
  readonly latent: number[];
  readonly pixels: number[];
  readonly steps: number[];
}

interface KontextLike {
  readonly capabilities: readonly string[];
  readonly backendInfo: { readonly device: string };
  generate(
    options: object,
  ): AsyncIterable<{ type: string; step?: number }> & { result: Promise<{ latent: { data: Float32Array }; images: { data: Uint8ClampedArray }[] }> };
  dispose(): Promise<void>;
}

/** `UniPic.load(url)` on the tiny Kontext folder (the family comes from its unipic.json), one generate. */
async function runKontext(modelUrl: string, device: 'wasm' | 'webgpu'): Promise<KontextPageRun> {
  const model = (await UniPic.load(modelUrl, { device, dtype: 'fp32', backendOptions: { wasmPaths: ORT_FILES, numThreads: 1 } })) as unknown as KontextLike;
  try {
    const run = model.generate({ prompt: 'a red fox in the snow!', width: 32, height: 48, steps: 2, seed: 11 });
    const steps: number[] = [];
    for await (const event of run) if (event.type === 'step-finish') steps.push(event.step as number);
    const result = await run.result;
    return {
      device: model.backendInfo.device,
      capabilities: [...model.capabilities],
      latent: Array.from(result.latent.data),
      pixels: Array.from(result.images[0].data),
      steps,
    };
  } finally {
    await model.dispose();
  }
}

Object.assign(globalThis, { runKontext, pageReady: true });
