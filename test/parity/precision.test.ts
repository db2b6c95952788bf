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
} as const;

let dir: string;
beforeAll(async () => {
  dir = await referenceModelDir(undefined, ['fp32', 'fp16', 'q4', 'q4f16']);
}, 180_000);

describe('lower precisions against the float32 oracle (t2i_64 replay)', () => {
  it.each(Object.keys(BOUNDS) as (keyof typeof BOUNDS)[])(
    '%s stays within its documented tolerance',
    async (dtype) => {
      const { backend, calls } = recordingBackend(new NodeOrtBackend());
      const model = await UniPic.load(dir, { backend, device: 'cpu', dtype });
      try {
        expect(model.dtypes.llm).toBe(dtype);
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
