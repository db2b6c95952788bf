import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GRAPH_NAMES, type UniPic1Manifest as Manifest } from '../../../src/families/unipic1/manifest.js';

/**
 * A model folder with the manifest layout but random bytes instead of graphs: loading code only
 * moves, caches and verifies bytes, so no ONNX is needed. Every graph has an fp32 variant with
 * external data; `llm`'s data is the large file (for mid-file cuts and aborts).
 */
export interface SyntheticModel {
  readonly manifest: Manifest;
  readonly manifestText: string;
  readonly files: Map<string, Buffer>;
}

export function makeSyntheticModel(options: { largeBytes?: number; smallBytes?: number } = {}): SyntheticModel {
  const largeBytes = options.largeBytes ?? 300_000;
  const smallBytes = options.smallBytes ?? 1_000;
  const files = new Map<string, Buffer>();
  const add = (path: string, size: number) => files.set(path, randomBytes(size));
  add('tokenizer.json', smallBytes);
  add('tokenizer_config.json', 200);
  add('mar-constants.safetensors', 300);
  add('tables-256.safetensors', 2_000);
  add('tables-512.safetensors', 4_000);
  const graphs: Record<string, unknown> = {};
  for (const name of GRAPH_NAMES) {
    add(`graphs/${name}.fp32.onnx`, smallBytes);
    add(`graphs/${name}.fp32.onnx.data`, name === 'llm' ? largeBytes : smallBytes * 3);
    graphs[name] = { fp32: { file: `graphs/${name}.fp32.onnx`, externalData: [`graphs/${name}.fp32.onnx.data`] } };
  }
  const manifest = {
    format: 'unipic',
    version: 1,
    name: 'synthetic',
    config: {
      llm: {
        hiddenSize: 8,
        intermediateSize: 24,
        numLayers: 2,
        numHeads: 2,
        numKeyValueHeads: 1,
        headDim: 4,
        ropeTheta: 1_000_000,
        rmsNormEps: 1e-6,
        vocabSize: 151_936,
        maxPositionEmbeddings: 32_768,
      },
      mar: {
        encoderWidth: 32,
        decoderWidth: 32,
        encoderDepth: 2,
        decoderDepth: 2,
        encoderHeads: 4,
        decoderHeads: 4,
        bufferSize: 64,
        tokenDim: 16,
        nativeGrid: 4,
        vaeStride: 16,
      },
      diffusion: { width: 32, depth: 2, numTimesteps: 1000, samplingSteps: 100, maxBeta: 0.2, schedule: 'cosine' },
      vae: { scale: 0.2325, latentChannels: 16 },
      tokens: { imStart: 151_644, imEnd: 151_645, endOfText: 151_643 },
    },
    tokenizer: { json: 'tokenizer.json', config: 'tokenizer_config.json' },
    constants: 'mar-constants.safetensors',
    resolutions: [
      { size: 256, grid: 16, tables: 'tables-256.safetensors' },
      { size: 512, grid: 32, tables: 'tables-512.safetensors' },
    ],
    graphs,
    files: [...files].map(([path, body]) => ({ path, size: body.byteLength, sha256: sha256Hex(body) })),
  } as Manifest;
  return { manifest, manifestText: JSON.stringify(manifest, null, 2), files };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Write the model as a local folder. */
export async function writeModelFolder(model: SyntheticModel, directory: string, manifestText = model.manifestText): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'unipic.json'), manifestText);
  for (const [path, body] of model.files) {
    await mkdir(dirname(join(directory, path)), { recursive: true });
    await writeFile(join(directory, path), body);
  }
}
