import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../src/core/model/graphs.js';
import { float32, takeFloat32 } from '../../src/core/tensor.js';
import { decodeInStrips } from '../../src/core/vae/strip-decode.js';
import { stripDecoderSchema } from '../../src/spec/strip-decoder.js';
import { encodeInStrips } from '../../src/core/vae/strip-encode.js';
import { stripEncoderSchema } from '../../src/spec/strip-encoder.js';

/** What the strip-VAE section asks of one decode or encode. */
export interface VaeDecodeRequest {
  /**
   * Folder with `vae_decoder.onnx`, `vae_decoder_strips.onnx`, `strips-plan.json`,
   * `vae_encoder.onnx`, `vae_encoder_strips.onnx`, `encoder-plan.json` and the weights.
   */
  readonly folder: string;
  readonly mode: 'one-shot' | 'strips';
  /** Default decoder. */
  readonly part?: 'decoder' | 'encoder';
  /** Latent grid side (64 for 1024 px). */
  readonly grid: number;
  readonly channels: number;
  /** Output elements per strip run (default: the runner's). */
  readonly stripElements?: number;
  /** ORT's CPU arena (default on). */
  readonly arena?: boolean;
}

/** Seeded latents in [−1, 1] (the scaled latents' range), `[1, grid, grid, channels]`. */
export function benchLatents(grid: number, channels: number): Float32Array {
  const data = new Float32Array(grid * grid * channels);
  let state = 12345;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state / 2 ** 31 - 1;
  }
  return data;
}

/**
 * One run of a VAE graph (`base`, or `base_strips` in strip mode) through the SDK's node-ort backend
 * and checked runner: session creation and the task timed apart.
 */
async function timedVaeRun(
  request: VaeDecodeRequest,
  base: 'vae_decoder' | 'vae_encoder',
  task: (graphs: CheckedGraphs, strips: boolean) => Promise<Float32Array>,
): Promise<{ data: Float32Array; loadMs: number; taskMs: number }> {
  const backend = new NodeOrtBackend();
  await backend.init({ device: 'cpu' });
  try {
    const strips = request.mode === 'strips';
    const name = strips ? `${base}_strips` : base;
    const started = performance.now();
    const session = await backend.createSession(
      { name, path: join(request.folder, `${name}.onnx`) },
      request.arena === false ? { extra: { enableCpuMemArena: false } } : {},
    );
    const loadMs = performance.now() - started;
    const graphs = new CheckedGraphs(async () => session);
    const run = performance.now();
    const data = await task(graphs, strips);
    return { data, loadMs, taskMs: performance.now() - run };
  } finally {
    await backend.dispose();
  }
}

/** One VAE decode through the SDK's node-ort backend and checked runner, one-shot or in strips. */
export async function decodeOnce(request: VaeDecodeRequest): Promise<{ pixels: Float32Array; loadMs: number; taskMs: number }> {
  const latent = float32([1, request.grid, request.grid, request.channels], benchLatents(request.grid, request.channels));
  const { data, loadMs, taskMs } = await timedVaeRun(request, 'vae_decoder', async (graphs, strips) => {
    if (!strips) return (await takeFloat32((await graphs.run('vae_decoder', { latents: latent })).pixels)).data;
    const plan = stripDecoderSchema.parse(JSON.parse(readFileSync(join(request.folder, 'strips-plan.json'), 'utf8')));
    return (await decodeInStrips(graphs, plan, latent, request.stripElements ? { stripElements: request.stripElements } : {})).data;
  });
  return { pixels: data, loadMs, taskMs };
}

/** Seeded pixels in [−1, 1], `[1, 3, side, side]`. */
export function benchPixels(side: number): Float32Array {
  return benchLatents(side, 3);
}

/** One VAE encode through the SDK's node-ort backend and checked runner, one-shot or in strips. */
export async function encodeOnce(request: VaeDecodeRequest): Promise<{ latents: Float32Array; loadMs: number; taskMs: number }> {
  const side = request.grid * 16;
  const pixels = float32([1, 3, side, side], benchPixels(side));
  const { data, loadMs, taskMs } = await timedVaeRun(request, 'vae_encoder', async (graphs, strips) => {
    if (!strips) return (await takeFloat32((await graphs.run('vae_encoder', { pixels })).latents)).data;
    const plan = stripEncoderSchema.parse(JSON.parse(readFileSync(join(request.folder, 'encoder-plan.json'), 'utf8')));
    return (await takeFloat32((await encodeInStrips(graphs, plan, pixels, request.stripElements ? { stripElements: request.stripElements } : {})).latents)).data;
  });
  return { latents: data, loadMs, taskMs };
}
