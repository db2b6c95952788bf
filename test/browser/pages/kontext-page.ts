import { KontextModel, WebOrtBackend } from 'unipic';

const ORT_FILES = new URL('/ort/', location.href).href;

export interface KontextPageRun {
  readonly device: string;
  readonly latent: number[];
  readonly pixels: number[];
  readonly steps: number[];
}

/** Opens the tiny Kontext folder over HTTP (graphs and external data by URL) and generates once. */
async function runKontext(modelUrl: string, device: 'wasm' | 'webgpu'): Promise<KontextPageRun> {
  const backend = new WebOrtBackend();
  const info = await backend.init({ device, extra: { wasmPaths: ORT_FILES, numThreads: 1 } });
  const manifest = await (await fetch(new URL('unipic.json', modelUrl))).json();
  const model = await KontextModel.open(
    manifest,
    {
      graphSource: (name, file, externalData) => ({
        name,
        path: new URL(file, modelUrl).href,
        externalData: externalData.map((path) => ({ path, data: new URL(path, modelUrl).href })),
      }),
      readText: async (path) => (await fetch(new URL(path, modelUrl))).text(),
    },
    backend,
  );
  try {
    const run = model.generate({ prompt: 'a red fox in the snow!', width: 32, height: 48, steps: 2, seed: 11 });
    const steps: number[] = [];
    for await (const event of run) if (event.type === 'step-finish') steps.push(event.step);
    const result = await run.result;
    return { device: info.device, latent: Array.from(result.latent.data), pixels: Array.from(result.images[0].data), steps };
  } finally {
    await model.dispose();
    await backend.dispose();
  }
}

Object.assign(globalThis, { runKontext, pageReady: true });
