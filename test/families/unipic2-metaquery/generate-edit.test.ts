import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel, registerConverter } from '../../../src/convert/index.js';
import type { DiffusionRunEvent } from '../../../src/core/diffusion/diffusion-events.js';
import type { UniPicModel } from '../../../src/core/model/unipic-model.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { metaqueryConverter } from '../../../src/families/unipic2-metaquery/converter.js';
import type { MetaqueryTasks } from '../../../src/families/unipic2-metaquery/runtime.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import { UniPic } from '../../../src/index.node.js';
import { replayDraws } from '../support/diffusion-replay.js';
import { fixtureCheckpoint } from './support/graph-harness.js';
import { MQ_FIXTURES, scaledError } from './support/goldens.js';

/**
 * generate and edit end to end on the oracle checkpoint (VLM + conditioner from
 * test/fixtures/metaquery, transformer/VAE/scheduler from test/fixtures/kontext), against the
 * oracle's sampler runs (tools/reference/unipic2_mq_reference/sampler_goldens.py → sampler.*),
 * noise injected: final latent within 1e-4 · max(1, max|e|), every pixel equal or off by one.
 */
const KONTEXT_CHECKPOINT = fileURLToPath(new URL('../../fixtures/kontext/checkpoint/', import.meta.url));
const sampler = decodeSafetensors(new Uint8Array(readFileSync(join(MQ_FIXTURES, 'sampler.safetensors'))), 'sampler.safetensors');
const runs = JSON.parse(readFileSync(join(MQ_FIXTURES, 'sampler.json'), 'utf8')).runs as Record<
  string,
  { height: number; width: number; steps: number; imageSize?: number }
>;

function golden(name: string): Uint8Array {
  const tensor = sampler.tensors.get(name);
  if (!tensor) throw new Error(`no golden ${name}`);
  return tensor.bytes.slice();
}
const goldenFloat = (name: string) => new Float32Array(golden(name).buffer);

const replay = (run: string) => replayDraws((purpose) => (purpose.kind === 'initial-latent' ? goldenFloat(`run.${run}.noise`) : undefined));

function maxPixelDifference(rgba: Uint8ClampedArray, rgb: Uint8Array): number {
  expect(rgba.length / 4).toBe(rgb.length / 3);
  let worst = 0;
  for (let i = 0; i < rgb.length / 3; i++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(rgba[i * 4 + c] - rgb[i * 3 + c]));
  return worst;
}

describe('unipic2-metaquery generate and edit vs the oracle', () => {
  let checkpoint: string;
  let out: string;
  let model: UniPicModel<MetaqueryTasks>;

  beforeAll(async () => {
    registerConverter(metaqueryConverter);
    checkpoint = fixtureCheckpoint();
    for (const part of ['transformer', 'vae', 'scheduler']) cpSync(join(KONTEXT_CHECKPOINT, part), join(checkpoint, part), { recursive: true });
    out = join(checkpoint, 'model');
    const result = await convertModel(checkpoint, out, { dtypes: ['fp32'] });
    expect(result.family).toBe('unipic2-metaquery');
    model = await UniPic.load(out, { family: 'unipic2-metaquery', device: 'cpu', dtype: 'fp32', threads: 1 });
  });
  afterAll(async () => {
    await model?.dispose();
    rmSync(checkpoint, { recursive: true, force: true });
  });

  it('converts the diffusion part: the sampler config, its graphs byte-identical to the Kontext converter’s (oracle-checked there)', async () => {
    const manifest = JSON.parse(readFileSync(join(out, 'unipic.json'), 'utf8'));
    expect(Object.keys(manifest.graphs).sort()).toEqual([
      'conditioner',
      'embed',
      'llm',
      'lm_head',
      'transformer',
      'vae_decoder',
      'vae_decoder_strips',
      'vae_encoder',
      'vae_encoder_strips',
      'vision',
    ]);
    expect(manifest.config.transformer).toMatchObject({ width: 32, jointAttentionDim: 32, pooledProjectionDim: 24, positionTable: { rounding: 'bfloat16' } });
    expect(manifest.config.vae).toEqual({ latentChannels: 16, scalingFactor: 1.5305, shiftFactor: 0.0609, stride: 8 });
    expect(manifest.config.scheduler).toEqual({ numTrainTimesteps: 1000, shift: 3 });
    const kontext = join(checkpoint, 'kontext');
    const converted = await convertKontextCheckpoint(KONTEXT_CHECKPOINT, kontext, { dtypes: ['fp32'] });
    expect(manifest.stripDecoder).toBeDefined();
    expect(manifest.stripDecoder).toEqual(converted.manifest.stripDecoder);
    expect(manifest.stripEncoder).toBeDefined();
    expect(manifest.stripEncoder).toEqual(converted.manifest.stripEncoder);
    for (const graph of ['transformer', 'vae_encoder', 'vae_decoder', 'vae_decoder_strips', 'vae_encoder_strips'] as const) {
      const ours = manifest.graphs[graph].fp32;
      const theirs = converted.manifest.graphs[graph]!.fp32!;
      expect(readFileSync(join(out, ours.file)).equals(readFileSync(join(kontext, theirs.file)))).toBe(true);
      expect(ours.externalData.length).toBe(theirs.externalData.length);
      for (const [i, data] of ours.externalData.entries())
        expect(readFileSync(join(out, data)).equals(readFileSync(join(kontext, theirs.externalData[i])))).toBe(true);
    }
  });

  it('offers understand, generate and edit', () => {
    expect([...model.capabilities].sort()).toEqual(['edit', 'generate', 'understand']);
  });

  it('generate: "Generate an image: " + prompt through the VLM and conditioner, then the sampler (3 steps, CFG 3.5)', async () => {
    const info = runs.t2i;
    const events: DiffusionRunEvent[] = [];
    const handle = model.generate({
      prompt: 'a red cube on a wooden table',
      steps: info.steps,
      width: info.width,
      height: info.height,
      preview: 2,
      random: replay('t2i'),
    });
    for await (const event of handle) events.push(event);
    const result = await handle.result;
    expect(events.filter((e) => e.type === 'step-finish').map((e) => (e as { step: number }).step)).toEqual([0, 1, 2]);
    expect(events.filter((e) => e.type === 'image-preview').map((e) => (e as { step: number }).step)).toEqual([1, 2]);
    expect(events.at(-1)?.type).toBe('finish');
    expect([result.width, result.height]).toEqual([info.width, info.height]);
    expect(scaledError(result.latent.data, goldenFloat('run.t2i.latent'))).toBeLessThan(1e-4);
    expect(maxPixelDifference(result.images[0].data, golden('run.t2i.pixels'))).toBeLessThanOrEqual(1);
  });

  it('edit: the image in the user turn at 7/8 of the edit size, the reference latent, the editing negative prompt', async () => {
    const info = runs.edit;
    const result = await model.edit({
      image: new Uint8Array(readFileSync(join(MQ_FIXTURES, 'image.png'))),
      prompt: 'make the sky purple',
      negativePrompt: 'blurry, low quality',
      longerEdge: info.imageSize!,
      sizeMultiple: 32,
      steps: info.steps,
      random: replay('edit'),
    }).result;
    expect([result.width, result.height]).toEqual([info.width, info.height]);
    expect(scaledError(result.latent.data, goldenFloat('run.edit.latent'))).toBeLessThan(1e-4);
    expect(maxPixelDifference(result.images[0].data, golden('run.edit.pixels'))).toBeLessThanOrEqual(1);
  });

  it('lowMemory frees the VLM side and the VAE encoder once used; results unchanged', async () => {
    const low = await UniPic.load(out, { family: 'unipic2-metaquery', device: 'cpu', dtype: 'fp32', threads: 1, lowMemory: true });
    const released: string[] = [];
    const created: string[] = [];
    low.on('session-release', ({ graph }) => released.push(graph));
    low.on('session-create', ({ graph }) => created.push(graph));
    try {
      const info = runs.edit;
      const image = new Uint8Array(readFileSync(join(MQ_FIXTURES, 'image.png')));
      const options = { image, prompt: 'make the sky purple', negativePrompt: 'blurry, low quality', longerEdge: info.imageSize!, steps: info.steps };
      const edited = await low.edit({ ...options, random: replay('edit') }).result;
      expect(scaledError(edited.latent.data, goldenFloat('run.edit.latent'))).toBeLessThan(1e-4);
      expect([...released].sort()).toEqual(['conditioner', 'embed', 'llm', 'vae_encoder', 'vision']);
      const generated = await low.generate({ prompt: 'a red cube on a wooden table', steps: 3, width: 48, height: 64, random: replay('t2i') }).result;
      expect(scaledError(generated.latent.data, goldenFloat('run.t2i.latent'))).toBeLessThan(1e-4);
      expect(created.filter((g) => g === 'llm')).toHaveLength(2);
      expect(created.filter((g) => g === 'transformer')).toHaveLength(1);
    } finally {
      await low.dispose();
    }
  });

  it('validates once at the boundary and honours abort', async () => {
    expect(() => model.generate({ prompt: 'x', width: 40 })).toThrow(/multiple of 16/);
    expect(() => model.generate({ prompt: 'x', t5: false } as never)).toThrow();
    const aborted = new AbortController();
    aborted.abort();
    await expect(model.generate({ prompt: 'x', width: 32, height: 32, steps: 1, signal: aborted.signal }).result).rejects.toMatchObject({ code: 'ABORTED' });
    const seeded = (seed: number) => model.generate({ prompt: 'a cat', width: 32, height: 32, steps: 1, seed }).result;
    const [a, b] = [await seeded(7), await seeded(7)];
    expect(a.seed).toBe(7);
    expect(Array.from(a.latent.data)).toEqual(Array.from(b.latent.data));
  });
});
