import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniPic, type ImageRunEvent } from '../../src/index.node.js';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { tinyModelDir } from '../support/tiny-model.js';

const FAST = { size: 64, steps: 3, diffusionSteps: 10 } as const;
const digest = (data: Uint8ClampedArray) => createHash('sha256').update(data).digest('hex');

let dir: string;
let model: UniPic;
beforeAll(async () => {
  dir = await tinyModelDir();
  model = await UniPic.load(dir, { dtype: 'fp32', device: 'cpu' });
}, 180_000);
afterAll(async () => {
  await model?.dispose();
});

describe('generate()', () => {
  it('emits step-start/step-finish for every iteration, then finish, and returns PNG-encodable images', async () => {
    const run = model.generate({ prompt: 'a red kite', ...FAST, seed: 5 });
    const events: ImageRunEvent[] = [];
    for await (const event of run) events.push(event);
    const result = await run.result;
    expect(events.filter((e) => e.type === 'step-start')).toHaveLength(3);
    const finishes = events.filter((e): e is Extract<ImageRunEvent, { type: 'step-finish' }> => e.type === 'step-finish');
    expect(finishes.map((e) => e.iteration)).toEqual([0, 1, 2]);
    expect(finishes.at(-1)!.known).toBe(16);
    expect(events.at(-1)!.type).toBe('finish');
    expect(result.seed).toBe(5);
    const [image] = result.images;
    expect([image.width, image.height, image.data.length]).toEqual([64, 64, 64 * 64 * 4]);
    const png = image.toPNG();
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  });

  it('gives the same image for the same seed, and a different one for another seed', async () => {
    const a = await model.generate({ prompt: 'a red kite', ...FAST, seed: 11 }).result;
    const b = await model.generate({ prompt: 'a red kite', ...FAST, seed: 11 }).result;
    const c = await model.generate({ prompt: 'a red kite', ...FAST, seed: 12 }).result;
    expect(digest(a.images[0].data)).toBe(digest(b.images[0].data));
    expect(digest(a.images[0].data)).not.toBe(digest(c.images[0].data));
  });

  it('gives the same image for the same seed in another process', async () => {
    const here = await model.generate({ prompt: 'a red kite', ...FAST, seed: 11 }).result;
    const script = `
      import { UniPic } from './src/index.node.ts';
      import { createHash } from 'node:crypto';
      const model = await UniPic.load(${JSON.stringify(dir)}, { dtype: 'fp32', device: 'cpu' });
      const result = await model.generate({ prompt: 'a red kite', size: 64, steps: 3, diffusionSteps: 10, seed: 11 }).result;
      process.stdout.write(createHash('sha256').update(result.images[0].data).digest('hex'));
      await model.dispose();`;
    const other = execFileSync('npx', ['tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: process.cwd() }).trim().split('\n').at(-1);
    expect(other).toBe(digest(here.images[0].data));
  }, 120_000);

  it('returns numImages images, each different', async () => {
    const result = await model.generate({ prompt: 'two kites', ...FAST, numImages: 2, seed: 3 }).result;
    expect(result.images).toHaveLength(2);
    expect(digest(result.images[0].data)).not.toBe(digest(result.images[1].data));
  });

  it('emits image-preview every k iterations when asked (and never by default)', async () => {
    const events: ImageRunEvent[] = [];
    const run = model.generate({ prompt: 'a kite', ...FAST, steps: 4, preview: 2, seed: 1 });
    for await (const event of run) events.push(event);
    const previews = events.filter((e) => e.type === 'image-preview');
    expect(previews.map((e) => (e as { iteration: number }).iteration)).toEqual([1]);
    expect(previews[0].type === 'image-preview' && previews[0].images[0].width).toBe(64);
    // A preview has the result's helpers: PNG bytes, a Blob; toImageData() is for browsers.
    const preview = previews[0].type === 'image-preview' ? previews[0].images[0] : undefined;
    expect([...(preview?.toPNG().subarray(0, 4) ?? [])]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(preview?.toBlob().type).toBe('image/png');
    expect(() => preview?.toImageData()).toThrow(/toImageData\(\) needs ImageData, which browsers and workers have and Node does not/);
    const plain: ImageRunEvent[] = [];
    for await (const event of model.generate({ prompt: 'a kite', ...FAST, seed: 1 })) plain.push(event);
    expect(plain.some((e) => e.type === 'image-preview')).toBe(false);
  });

  it('guidance 1 runs without unconditional rows; the linear schedule changes the image', async () => {
    const constant = await model.generate({ prompt: 'a kite', ...FAST, seed: 9 }).result;
    const linear = await model.generate({ prompt: 'a kite', ...FAST, seed: 9, guidanceSchedule: 'linear' }).result;
    const unguided = await model.generate({ prompt: 'a kite', ...FAST, seed: 9, guidance: 1 }).result;
    expect(digest(linear.images[0].data)).not.toBe(digest(constant.images[0].data));
    expect(digest(unguided.images[0].data)).not.toBe(digest(constant.images[0].data));
  });

  it('aborts at step k and the model stays usable', async () => {
    const controller = new AbortController();
    const run = model.generate({ prompt: 'a kite', ...FAST, steps: 4, seed: 2, signal: controller.signal });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const event of run) {
          if (event.type === 'step-finish') {
            seen.push(event.iteration);
            if (event.iteration === 1) controller.abort();
          }
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    await expect(run.result).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen).toEqual([0, 1]);
    const after = await model.generate({ prompt: 'a kite', ...FAST, seed: 2 }).result;
    expect(after.images).toHaveLength(1);
  });

  it.each([
    [{ prompt: '' }, 'prompt'],
    [{ prompt: 'x', steps: 0 }, 'steps'],
    [{ prompt: 'x', guidance: 0.5 }, 'guidance'],
    [{ prompt: 'x', guidanceSchedule: 'cosine' }, 'guidanceSchedule'],
    [{ prompt: 'x', size: 100 }, 'size'],
    [{ prompt: 'x', unknown: 1 }, '(root)'],
  ])('rejects %j with InvalidOptionsError naming %s', (options, path) => {
    let error: unknown;
    try {
      model.generate(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toContain(path);
  });
});
