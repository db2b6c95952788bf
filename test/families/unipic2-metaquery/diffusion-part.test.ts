import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDiffusionPart } from '../../../src/families/unipic2-metaquery/convert/diffusion-part.js';
import { encodeSafetensors } from '../../../src/formats/safetensors-encoder.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import { conditionerConfig } from './support/graph-harness.js';

const KONTEXT_CHECKPOINT = fileURLToPath(new URL('../../fixtures/kontext/checkpoint/', import.meta.url));

/** The Skywork folder's diffusion part: every key and width accounted for before anything is written. */
describe('unipic2-metaquery diffusion part (transformer/, vae/, scheduler/)', () => {
  const dirs: string[] = [];
  const folder = (parts: readonly string[] = ['transformer', 'vae', 'scheduler']) => {
    const dir = mkdtempSync(join(tmpdir(), 'mq-diffusion-'));
    dirs.push(dir);
    for (const part of parts) cpSync(join(KONTEXT_CHECKPOINT, part), join(dir, part), { recursive: true });
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('none of the three: undefined (understand only); all three: every key required or ignored with a reason', async () => {
    expect(await openDiffusionPart(folder([]), conditionerConfig)).toBeUndefined();
    const part = await openDiffusionPart(folder(), conditionerConfig);
    try {
      expect(part?.keys.ignored).toEqual([{ key: 'transformer.pos_embed.pos_embed', why: expect.stringMatching(/recomputed/) }]);
      expect(part?.keys.required.every((k) => k.startsWith('transformer.') || k.startsWith('vae.'))).toBe(true);
      expect(part?.structure.transformer.jointAttentionDim).toBe(conditionerConfig.jointAttentionDim);
    } finally {
      await part?.close();
    }
  });

  it('refuses a partial set, mismatched widths and unknown keys', async () => {
    await expect(openDiffusionPart(folder(['transformer', 'scheduler']), conditionerConfig)).rejects.toThrow(/but not vae/);
    await expect(openDiffusionPart(folder(), { ...conditionerConfig, pooledProjectionDim: 16 })).rejects.toThrow(/pooled/);
    const dir = folder();
    const path = join(dir, 'vae', 'diffusion_pytorch_model.safetensors');
    const decoded = decodeSafetensors(new Uint8Array(readFileSync(path)), path);
    const tensors = [...decoded.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.bytes }));
    tensors.push({ ...tensors[0], name: 'encoder.extra.weight' });
    writeFileSync(path, encodeSafetensors(tensors, { format: 'pt' }));
    await expect(openDiffusionPart(dir, conditionerConfig)).rejects.toMatchObject({
      code: 'INVALID_MODEL',
      message: expect.stringMatching(/vae\.encoder\.extra\.weight/),
    });
  });
});
