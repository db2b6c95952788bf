import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectConverter, registerConverter } from '../../src/convert/family/converter-registry.js';
import type { ConverterFamily } from '../../src/convert/family/converter-family.js';
import { ModelNotFoundError, UnrecognizedCheckpointError } from '../../src/errors/index.js';
import { unipic1Converter } from '../../src/families/unipic1/converter.js';
import { tinyCheckpointDir } from '../support/tiny-model.js';

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'unipic-detect-'));
  registerConverter(unipic1Converter);
});
afterAll(async () => rm(folder, { recursive: true, force: true }));

describe('converter detection', () => {
  it('recognises the official UniPic-1 layout as unipic1', async () => {
    expect((await detectConverter(await tinyCheckpointDir())).id).toBe('unipic1');
  });

  it('a folder no family recognises is a typed error listing the families; a missing path ModelNotFoundError', async () => {
    const empty = join(folder, 'empty');
    await mkdir(empty);
    await expect(detectConverter(empty)).rejects.toBeInstanceOf(UnrecognizedCheckpointError);
    await expect(detectConverter(empty)).rejects.toMatchObject({ details: { families: expect.arrayContaining(['unipic1']) } });
    await expect(detectConverter(join(folder, 'absent'))).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  it('a family that is certain wins over one that only could read the weights', async () => {
    const other: ConverterFamily = {
      id: 'test-marked',
      detect: async (path) => (path.endsWith('marked') ? 'certain' : undefined),
      convert: () => Promise.reject(new Error('not used')),
    };
    registerConverter(other);
    const marked = join(folder, 'marked');
    await mkdir(marked);
    // Weights UniPic-1 could open, without anything that names UniPic-1: only `possible` for it.
    await writeFile(join(marked, 'model.safetensors'), new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]));
    expect(await unipic1Converter.detect(marked)).toBe('possible');
    expect((await detectConverter(marked)).id).toBe('test-marked');
    expect((await detectConverter(marked, 'unipic1')).id).toBe('unipic1');
  });
});
