import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniPicError } from '../../../src/errors/unipic-error.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { UniPic } from '../../../src/index.node.js';
import type { KontextTasks } from '../../../src/families/unipic2-kontext/runtime.js';
import type { UniPicModel } from '../../../src/core/model/unipic-model.js';
import type { Dtype } from '../../../src/spec/manifest.js';
import type { KontextRunEvent } from '../../../src/families/unipic2-kontext/pipeline/kontext-events.js';
import { freshDir, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

let out: string;
let model: UniPicModel<KontextTasks>;
const open = async (dtype: Dtype = 'fp32') => await UniPic.load(out, { family: 'unipic2-kontext', device: 'cpu', dtype, threads: 1 });
const small = { prompt: 'a red fox', width: 32, height: 32, steps: 2 } as const;

beforeAll(async () => {
  out = freshDir('model');
  await convertKontextCheckpoint(TINY_CHECKPOINT, out, { dtypes: ['fp32', 'fp16', 'q4', 'q4f16'] });
  model = await open();
});

afterAll(async () => {
  await model?.dispose();
});

function relativeRms(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('Kontext runs through UniPic.load', () => {
  it('offers generate and edit, not understand', () => {
    expect([...model.capabilities].sort()).toEqual(['edit', 'generate']);
    expect(() => model.understand({} as never)).toThrow(/understand/);
  });

  it('validates options synchronously', () => {
    for (const bad of [
      { ...small, width: 40 },
      { ...small, steps: 0 },
      { ...small, extra: 1 },
    ]) {
      let error: unknown;
      try {
        model.generate(bad as never);
      } catch (e) {
        error = e;
      }
      expect(UniPicError.isInstance(error) && (error as UniPicError).code).toBe('INVALID_OPTIONS');
    }
  });

  it('is reproducible by seed, emits per-step events and previews', async () => {
    const run = model.generate({ ...small, seed: 7, preview: 1 });
    const events: KontextRunEvent[] = [];
    for await (const event of run) events.push(event);
    const first = await run.result;
    expect(events.map((e) => e.type)).toEqual(['step-start', 'image-preview', 'step-finish', 'step-start', 'image-preview', 'step-finish', 'finish']);
    const again = await model.generate({ ...small, seed: 7 }).result;
    expect(first.seed).toBe(7);
    expect(Array.from(again.latent.data)).toEqual(Array.from(first.latent.data));
    expect(first.images[0]).toMatchObject({ width: 32, height: 32 });
    expect(first.images[0].toPNG().length).toBeGreaterThan(0);
  });

  it('aborts between steps and queues calls in order', async () => {
    const controller = new AbortController();
    const aborted = model.generate({ ...small, steps: 5, seed: 1, signal: controller.signal });
    const queued = model.generate({ ...small, seed: 2 });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of aborted) {
          seen.push(event.type);
          if (event.type === 'step-finish') controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    // The producer may have started the next step before the consumer saw the abort; it never finishes.
    expect(seen.slice(0, 2)).toEqual(['step-start', 'step-finish']);
    expect(seen.filter((type) => type === 'step-finish').length).toBeLessThan(5);
    expect(seen).not.toContain('finish');
    await expect(aborted.result).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await queued.result).seed).toBe(2);
  });

  it('runs without T5 when asked (different output), and every dtype close to fp32', async () => {
    const reference = await model.generate({ ...small, seed: 3 }).result;
    const noT5 = await model.generate({ ...small, seed: 3, t5: false }).result;
    expect(relativeRms(noT5.latent.data, reference.latent.data)).toBeGreaterThan(1e-3);
    const manifest = JSON.parse(readFileSync(join(out, 'unipic.json'), 'utf8')) as { graphs: Record<string, Record<string, { file: string }>> };
    expect(manifest.graphs.vae_decoder.q4.file).toBe('vae_decoder.fp32.onnx');
    expect(manifest.graphs.t5_encoder.fp16.file).toBe('t5_encoder.fp16.onnx');
    for (const [dtype, bound] of [
      ['fp16', 1e-2],
      ['q4', 0.5],
      ['q4f16', 0.5],
    ] as const) {
      const variant = await open(dtype);
      try {
        expect(variant.dtypes.transformer).toBe(dtype);
        const result = await variant.generate({ ...small, seed: 3 }).result;
        expect(result.latent.data.every(Number.isFinite)).toBe(true);
        expect(relativeRms(result.latent.data, reference.latent.data)).toBeLessThan(bound);
      } finally {
        await variant.dispose();
      }
    }
  });

  it('dispose aborts a running call and refuses new ones', async () => {
    const other = await open();
    const run = other.generate({ ...small, steps: 20, seed: 4 });
    for await (const event of run) {
      if (event.type === 'step-finish') break;
    }
    await other.dispose();
    await expect(run.result).rejects.toMatchObject({ code: 'ABORTED' });
    expect(() => other.generate(small)).toThrow(/disposed/);
  });
});
