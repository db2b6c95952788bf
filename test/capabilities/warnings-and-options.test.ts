import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniPic } from '../../src/index.node.js';
import { tinyModelDir } from '../support/tiny-model.js';

const FAST = { size: 64, steps: 2, diffusionSteps: 5, seed: 4 } as const;
const digest = (data: Uint8ClampedArray) => createHash('sha256').update(data).digest('hex');
const wide = { data: new Uint8Array(96 * 64 * 3).map((_, i) => (i * 13) % 256), width: 96, height: 64, channels: 3 as const };

let model: UniPic;
beforeAll(async () => {
  model = await UniPic.load(await tinyModelDir(), { device: 'cpu', dtype: 'fp32' });
}, 180_000);
afterAll(async () => {
  await model?.dispose();
});

describe('call warnings and options', () => {
  it('negativePrompt replaces the unconditional prompt', async () => {
    const plain = await model.generate({ prompt: 'a kite', ...FAST }).result;
    const negative = await model.generate({ prompt: 'a kite', negativePrompt: 'blurry, dark', ...FAST }).result;
    const same = await model.generate({ prompt: 'a kite', negativePrompt: 'Generate an image.', ...FAST }).result;
    expect(digest(negative.images[0].data)).not.toBe(digest(plain.images[0].data));
    expect(digest(same.images[0].data)).toBe(digest(plain.images[0].data));
  });

  it('edit warns that a non-square source was cropped, as an event and in the result', async () => {
    const run = model.edit({ image: wide, prompt: 'x', ...FAST });
    const events: string[] = [];
    for await (const event of run) if (event.type === 'warning') events.push(event.code);
    const result = await run.result;
    expect(events).toEqual(['image-cropped']);
    expect(result.warnings.map((w) => w.code)).toEqual(['image-cropped']);
  });

  it('understand warns that a non-square image was padded', async () => {
    const result = await model.understand({ image: wide, size: 64, maxTokens: 1 }).result;
    expect(result.warnings.map((w) => w.code)).toEqual(['image-padded']);
    const square = await model.understand({ image: { ...wide, data: wide.data.subarray(0, 64 * 64 * 3), width: 64 }, size: 64, maxTokens: 1 }).result;
    expect(square.warnings).toEqual([]);
  });

  it('load warnings reach listeners attached right after load resolves', async () => {
    // A half-precision-only folder on the CPU (no fp16): 'auto' uses it and warns once.
    const other = await UniPic.load(await tinyModelDir(['fp16']), { device: 'cpu', capabilities: ['understand'] });
    const heard: string[] = [];
    other.on('warning', (warning) => heard.push(warning.code));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(heard.length).toBe(other.loadWarnings.length);
    expect(heard).toContain('dtype-fallback');
    await other.dispose();
  });

  it('accepts a per-graph dtype map', async () => {
    const mixed = await UniPic.load(await tinyModelDir(), { device: 'cpu', dtype: { llm: 'q4', diffusion_head: 'fp32' }, capabilities: ['generate'] });
    try {
      expect(mixed.dtypes.llm).toBe('q4');
      expect(mixed.dtypes.diffusion_head).toBe('fp32');
      expect((await mixed.generate({ prompt: 'x', ...FAST }).result).images).toHaveLength(1);
    } finally {
      await mixed.dispose();
    }
  });

  it('loads with a named adapter', async () => {
    const named = await UniPic.load(await tinyModelDir(), { backend: 'node-ort', device: 'cpu', dtype: 'fp32', capabilities: ['understand'] });
    expect(named.backendInfo.name).toBe('node-ort');
    await named.dispose();
  });
});
