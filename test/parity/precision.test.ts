import { beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { UniPic } from '../../src/index.node.js';
import { goldenFloat32, goldenUint8, referenceModelDir, relativeError } from '../support/reference.js';
import { recordingBackend } from './support/recording-backend.js';
import { ReplayRandom } from './support/replay-random.js';

// The oracle's t2i_64 run replayed on half-precision and 4-bit conversions of the same
// checkpoint. The bounds are the measured values with about 3× headroom (docs/fidelity.md); the
// 4-bit numbers are a worst case — random weights quantise worse than trained ones — and the bound
// is a wiring check, not a quality claim.
const BOUNDS = {
  fp16: { firstZ: 2e-3, lastZ: 6e-3, pixelsMax: 3, pixelsMean: 0.3 },
  q4: { firstZ: 0.3, lastZ: 1.2, pixelsMax: 255, pixelsMean: 60 },
  q4f16: { firstZ: 0.3, lastZ: 1.2, pixelsMax: 255, pixelsMean: 60 },
  // int8 products (measured z 1.2e-2 → 4.1e-2, pixels 16 / 1.6).
  q8: { firstZ: 0.04, lastZ: 0.12, pixelsMax: 48, pixelsMean: 5 },
  // The MAR and head graphs in q8 beside a float32 LLM, the per-graph map docs/fidelity.md gives
  // (measured z 1.6e-2 → 2.8e-2, pixels 15 / 1.6).
  'q8-mar': { firstZ: 0.05, lastZ: 0.1, pixelsMax: 45, pixelsMean: 5 },
} as const;

const REQUESTS = {
  fp16: 'fp16',
  q4: 'q4',
  q4f16: 'q4f16',
  q8: 'q8',
  'q8-mar': { mar_encoder: 'q8', mar_decoder: 'q8', diffusion_head: 'q8', llm: 'fp32' },
} as const;

let dir: string;
beforeAll(async () => {
  dir = await referenceModelDir(undefined, ['fp32', 'fp16', 'q4', 'q4f16', 'q8']);
}, 180_000);

describe('lower precisions against the float32 oracle (t2i_64 replay)', () => {
  it.each(Object.keys(BOUNDS) as (keyof typeof BOUNDS)[])(
    '%s stays within its documented tolerance',
    async (dtype) => {
      const { backend, calls } = recordingBackend(new NodeOrtBackend());
      const request = REQUESTS[dtype];
      const model = await UniPic.load(dir, { backend, device: 'cpu', dtype: request });
      try {
        if (typeof request === 'string') expect(model.dtypes.llm).toBe(dtype);
        else for (const [graph, wanted] of Object.entries(request)) expect(model.dtypes[graph as keyof typeof model.dtypes]).toBe(wanted);
        const result = await model.generate({ prompt: 'a red fox sitting in fresh snow', size: 64, steps: 4, random: new ReplayRandom('t2i_64') }).result;
        const z = calls.filter((c) => c.graph === 'mar_decoder').map((c, i) => relativeError(c.outputs.z.data as Float32Array, goldenFloat32(`t2i_64.iter.${i}.z`)));
        const expected = goldenUint8('t2i_64.pixels');
        let worst = 0;
        let total = 0;
        for (let i = 0; i < 64 * 64; i++) {
          for (let c = 0; c < 3; c++) {
            const d = Math.abs(result.images[0].data[i * 4 + c] - expected[i * 3 + c]);
            worst = Math.max(worst, d);
            total += d;
          }
        }
        const bound = BOUNDS[dtype];
        expect(z[0]).toBeLessThanOrEqual(bound.firstZ);
        expect(z.at(-1)!).toBeLessThanOrEqual(bound.lastZ);
        expect(worst).toBeLessThanOrEqual(bound.pixelsMax);
        const vae = calls.find((c) => c.graph.startsWith('vae_decoder'));
        const latents = vae ? relativeError(vae.feeds.latents.data as Float32Array, goldenFloat32('t2i_64.latents')) : Number.NaN;
        console.info(
          `precision ${dtype}: z ${z.map((e) => e.toExponential(1)).join(' → ')}, final latents ${latents.toExponential(1)}, pixels max ${worst} mean ${(total / (64 * 64 * 3)).toFixed(2)}`,
        );
        expect(total / (64 * 64 * 3)).toBeLessThanOrEqual(bound.pixelsMean);
        // Lower precision must actually be in use: the float32 path matches to ~1e-6.
        expect(z[0]).toBeGreaterThan(1e-5);
      } finally {
        await model.dispose();
        await backend.dispose();
      }
    },
    120_000,
  );
});
