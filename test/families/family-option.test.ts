import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import type { KontextEditOptions, KontextGenerateOptions, KontextResult } from '../../src/index.node.js';
import { InvalidModelError, UniPic, registerFamily } from '../../src/index.node.js';
import { INVERT_FAMILY, invertFamily, writeInvertModel } from './support/invert-family.js';

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'unipic-family-option-'));
  registerFamily(invertFamily);
  await writeInvertModel(join(folder, 'invert'));
});
afterAll(async () => rm(folder, { recursive: true, force: true }));

describe('the family load option', () => {
  it('refuses a folder of another family with a typed error, before any session exists', async () => {
    const backend = new NodeOrtBackend();
    const load = UniPic.load(join(folder, 'invert'), { backend, device: 'cpu', family: 'unipic2-kontext' });
    await expect(load).rejects.toBeInstanceOf(InvalidModelError);
    await expect(load).rejects.toMatchObject({ code: 'INVALID_MODEL', details: { expected: 'unipic2-kontext', family: INVERT_FAMILY } });
    expect(backend.liveSessions).toBe(0);
  });

  it('loads a folder of the family it names', async () => {
    const model = await UniPic.load(join(folder, 'invert'), { backend: new NodeOrtBackend(), device: 'cpu', family: INVERT_FAMILY });
    try {
      expect(model.family).toBe(INVERT_FAMILY);
    } finally {
      await model.dispose();
    }
  });

  it("types the model as the named built-in family's, and as UniPic-1's without the option", () => {
    type Kontext = Awaited<ReturnType<typeof loadKontext>>;
    expectTypeOf<Parameters<Kontext['generate']>[0]>().toEqualTypeOf<KontextGenerateOptions>();
    expectTypeOf<Parameters<Kontext['edit']>[0]>().toEqualTypeOf<KontextEditOptions>();
    expectTypeOf<Awaited<ReturnType<Kontext['generate']>['result']>>().toEqualTypeOf<KontextResult>();
    expectTypeOf<Awaited<ReturnType<typeof loadPlain>>>().toEqualTypeOf<UniPic>();
  });
});

// Never called: their return types are what the type test inspects.
const loadKontext = () => UniPic.load('models/kontext', { family: 'unipic2-kontext' });
const loadPlain = () => UniPic.load('models/unipic1');
