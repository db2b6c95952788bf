import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniPic, type TextRunEvent } from '../../src/index.node.js';
import { tinyModelDir } from '../support/tiny-model.js';

// A deterministic 64×64 gradient source image (raw RGB).
const width = 64;
const source = { data: new Uint8Array(width * width * 3).map((_, i) => (i * 7) % 251), width, height: width, channels: 3 as const };

let model: UniPic;
beforeAll(async () => {
  model = await UniPic.load(await tinyModelDir(), { dtype: 'fp32', device: 'cpu' });
}, 180_000);
afterAll(async () => {
  await model?.dispose();
});

async function collect(run: AsyncIterable<TextRunEvent>): Promise<string> {
  let text = '';
  for await (const event of run) if (event.type === 'text-delta') text += event.delta;
  return text;
}

describe('understand()', () => {
  it('streams deltas that concatenate to result.text, with usage and timings', async () => {
    const run = model.understand({ image: source, prompt: 'What is shown?', size: 64, maxTokens: 6 });
    const streamed = await collect(run);
    const result = await run.result;
    expect(streamed).toBe(result.text);
    expect(result.usage.completionTokens).toBe(result.tokens.length);
    // `<|im_start|>user\n` (3) + 80 image slots + the question and the assistant turn.
    expect(result.usage.promptTokens).toBeGreaterThan(3 + 80 + 5);
    expect(result.timings.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(['length', 'stop']).toContain(result.finishReason);
  });

  it('reuses the image prefix for a follow-up question and gets the tokens of a fresh call', async () => {
    await model.understand({ image: source, prompt: 'First question?', size: 64, maxTokens: 2 }).result;
    const followUp = await model.understand({ image: source, prompt: 'Second question?', size: 64, maxTokens: 6 }).result;
    expect(followUp.reusedImageCache).toBe(true);
    const fresh = await UniPic.load(await tinyModelDir(), { dtype: 'fp32', device: 'cpu' });
    try {
      const alone = await fresh.understand({ image: source, prompt: 'Second question?', size: 64, maxTokens: 6 }).result;
      expect(alone.reusedImageCache).toBe(false);
      expect(followUp.tokens).toEqual(alone.tokens);
    } finally {
      await fresh.dispose();
    }
  });

  it('stops at a stop string and leaves it out of the text', async () => {
    const full = await model.understand({ image: source, size: 64, maxTokens: 6 }).result;
    expect(full.text.length).toBeGreaterThanOrEqual(4);
    const middle = Math.floor(full.text.length / 2);
    const stop = full.text.slice(middle, middle + 2);
    const stopped = await model.understand({ image: source, size: 64, maxTokens: 6, stop: [stop] }).result;
    expect(stopped.finishReason).toBe('stop-string');
    expect(stopped.text).not.toContain(stop);
    expect(full.text.startsWith(stopped.text)).toBe(true);
    expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
  });

  it('aborts mid-decode and the model stays usable', async () => {
    const controller = new AbortController();
    const run = model.understand({ image: source, size: 64, maxTokens: 50, repetitionPenalty: 1, signal: controller.signal });
    let deltas = 0;
    await expect(
      (async () => {
        for await (const event of run) {
          if (event.type === 'text-delta' && ++deltas === 2) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(deltas).toBe(2);
    const again = await model.understand({ image: source, size: 64, maxTokens: 2 }).result;
    expect(again.tokens.length).toBeGreaterThan(0);
  });

  it('samples reproducibly with a seed', async () => {
    const a = await model.understand({ image: source, size: 64, maxTokens: 6, doSample: true, temperature: 1.5, seed: 4 }).result;
    const b = await model.understand({ image: source, size: 64, maxTokens: 6, doSample: true, temperature: 1.5, seed: 4 }).result;
    expect(a.tokens).toEqual(b.tokens);
    expect(a.seed).toBe(4);
    const drawn = await model.understand({ image: source, size: 64, maxTokens: 6, doSample: true, temperature: 1.5 }).result;
    const again = await model.understand({ image: source, size: 64, maxTokens: 6, doSample: true, temperature: 1.5, seed: drawn.seed }).result;
    expect(again.tokens).toEqual(drawn.tokens);
    expect((await model.understand({ image: source, size: 64, maxTokens: 1 }).result).seed).toBeUndefined();
  });
});

describe('edit()', () => {
  it('returns an edited image of the requested size, the same for the same seed', async () => {
    const a = await model.edit({ image: source, prompt: 'make it blue', size: 64, steps: 3, diffusionSteps: 10, seed: 8 }).result;
    const b = await model.edit({ image: source, prompt: 'make it blue', size: 64, steps: 3, diffusionSteps: 10, seed: 8 }).result;
    expect([a.images[0].width, a.images[0].height]).toEqual([64, 64]);
    expect(Buffer.from(a.images[0].data).equals(Buffer.from(b.images[0].data))).toBe(true);
  });

  it('aborts mid-edit and the model stays usable', async () => {
    const run = model.edit({ image: source, prompt: 'make it blue', size: 64, steps: 4, diffusionSteps: 10, seed: 8 });
    await expect(
      (async () => {
        for await (const event of run) if (event.type === 'step-finish' && event.iteration === 0) run.abort();
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    const after = await model.edit({ image: source, prompt: 'x', size: 64, steps: 2, diffusionSteps: 5 }).result;
    expect(after.images).toHaveLength(1);
  });
});
