import { beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { UniPic } from '../../src/index.node.js';
import { goldenFloat32, goldenUint8, referenceIndex, referenceModelDir, relativeError } from '../support/reference.js';
import { recordingBackend } from './support/recording-backend.js';
import { ReplayRandom } from './support/replay-random.js';

// A model converted with --fused-sampler runs the 100 diffusion steps as 4 runs of the
// diffusion_sampler graph per MAR iteration instead of 100 diffusion_head runs. Same oracle, same
// tolerance as the per-step sampler: 1e-4 relative on tensors, pixels equal or off by one.
let dir: string;
beforeAll(async () => {
  dir = await referenceModelDir(undefined, ['fp32'], true);
}, 180_000);

describe('the fused diffusion sampler reproduces the oracle', () => {
  it.each([
    ['t2i_64', 'diffusion_sampler'],
    ['t2i_64_cfg1', 'diffusion_sampler_plain'],
  ])(
    '%s through %s',
    async (run, graph) => {
      const info = referenceIndex.runs[run];
      const { backend, calls } = recordingBackend(new NodeOrtBackend());
      const model = await UniPic.load(dir, { backend, device: 'cpu', dtype: 'fp32' });
      try {
        const result = await model.generate({
          prompt: info.prompt,
          size: info.settings.imageSize,
          steps: info.settings.numIter,
          guidance: info.settings.cfg,
          temperature: info.settings.temperature,
          random: new ReplayRandom(run),
        }).result;
        expect(calls.filter((c) => c.graph === 'diffusion_head')).toHaveLength(0);
        expect(calls.filter((c) => c.graph === graph)).toHaveLength(4 * info.settings.numIter);
        // The next iteration's known tokens are the sampled ones; the final latents hold them all.
        const vae = calls.filter((c) => c.graph === 'vae_decoder').at(-1)!;
        expect(relativeError(vae.feeds.latents.data as Float32Array, goldenFloat32(`${run}.latents`))).toBeLessThanOrEqual(1e-4);
        const expected = goldenUint8(`${run}.pixels`);
        let worst = 0;
        for (let i = 0; i < 64 * 64; i++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(result.images[0].data[i * 4 + c] - expected[i * 3 + c]));
        expect(worst).toBeLessThanOrEqual(1);
      } finally {
        await model.dispose();
        await backend.dispose();
      }
    },
    120_000,
  );

  it('falls back to per-step runs for a step count the graph was not built for', async () => {
    const { backend, calls } = recordingBackend(new NodeOrtBackend());
    const model = await UniPic.load(dir, { backend, device: 'cpu', dtype: 'fp32' });
    try {
      await model.generate({ prompt: 'x', size: 64, steps: 1, diffusionSteps: 10, seed: 1 }).result;
      expect(calls.filter((c) => c.graph === 'diffusion_head')).toHaveLength(10);
      expect(calls.filter((c) => c.graph === 'diffusion_sampler')).toHaveLength(0);
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  }, 120_000);
});
