import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { convertModel } from '../../../src/convert/index.js';
import { makeTinyUnipic3 } from '../../../src/families/unipic3/convert/tiny/make-tiny-unipic3.js';
import { UniPic } from '../../../src/index.node.js';

describe('make-tiny --family unipic3 → convert (q4) → UniPic.load → edit', () => {
  const root = mkdtempSync(join(tmpdir(), 'unipic3-tiny-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the Qwen-Image-Edit layout, converts (transformer/ → teacher sampler) and edits one image (single `image`, guidance 1)', async () => {
    await makeTinyUnipic3(join(root, 'ckpt'), { seed: 3 });
    const result = await convertModel(join(root, 'ckpt'), join(root, 'out'), { dtypes: ['q4'] });
    expect(result.family).toBe('unipic3');
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'unipic.json'), 'utf8'));
    expect(manifest.config.sampler).toBe('teacher');
    expect(manifest.config.transformer.blockGraphs).toEqual(['transformer_blocks_0_1']);
    expect(Object.keys(manifest.graphs).sort()).toEqual([
      'embed',
      'llm',
      'transformer_blocks_0_1',
      'transformer_in',
      'transformer_out',
      'vae_decoder',
      'vae_encoder',
      'vision',
    ]);
    const model = await UniPic.load(join(root, 'out'), { backend: new NodeOrtBackend(), device: 'cpu', family: 'unipic3' });
    try {
      const image = { data: new Uint8Array(40 * 24 * 3).map((_, i) => (i * 37) % 256), width: 40, height: 24, channels: 3 as const };
      const run = model.edit({ image, prompt: 'make it red', width: 32, height: 32, steps: 2, guidance: 1, seed: 7 });
      const { images, seed } = await run.result;
      expect(seed).toBe(7);
      expect([images[0].width, images[0].height]).toEqual([32, 32]);
      const values = new Set(images[0].data);
      expect(values.size).toBeGreaterThan(8);
    } finally {
      await model.dispose();
    }
  }, 300_000);

  it('refuses q8 before writing anything: only UniPic-1 graphs are built and tested for it', async () => {
    await makeTinyUnipic3(join(root, 'ckpt-q8'), { seed: 3 });
    const error = await convertModel(join(root, 'ckpt-q8'), join(root, 'out-q8'), { dtypes: ['q8'] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe('INVALID_OPTIONS');
    expect((error as Error).message).toMatch(/"q8" is not one of fp32, fp16, q4, q4f16/);
    expect(existsSync(join(root, 'out-q8'))).toBe(false);
    // UniPic-1's converter options are refused, not silently dropped.
    const foreign = await convertModel(join(root, 'ckpt-q8'), join(root, 'out-kv'), { dtypes: ['q4'], kvCache: 'concat', fusedSampler: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((foreign as { code?: string }).code).toBe('INVALID_OPTIONS');
    expect((foreign as Error).message).toBe('fusedSampler, kvCache do not apply to UniPic-3 checkpoints');
    expect(existsSync(join(root, 'out-kv'))).toBe(false);
  }, 60_000);
});
