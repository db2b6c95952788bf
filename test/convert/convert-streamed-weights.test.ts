import { createHash } from 'node:crypto';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/families/unipic1/convert/open-checkpoint.js';
import { CheckpointWeights } from '../../src/convert/sync-weights.js';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { encodeSafetensors } from '../../src/formats/safetensors-encoder.js';
import { tinyCheckpointDir } from '../support/tiny-model.js';
import { patternBytes, temporaryFolder } from './readers/support/checkpoint-test-helpers.js';

// CheckpointWeights reads tensors synchronously, straight from the file ranges the readers located.
// Oracles: torch's own sha256 of each tensor widened to float32 (fixtures written by torch.save
// 2.4.1, see readers/fixtures/make_torch_fixtures.py), and the async readers, which are tested
// against torch on their own. Tolerance 0: equality of bytes.
const FIXTURES = join(import.meta.dirname, 'readers', 'fixtures');
const expected = JSON.parse(await readFile(join(FIXTURES, 'torch-expected.json'), 'utf8')) as Record<string, any>;
const sha256 = (values: Float32Array): string =>
  createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

async function withWeights(path: string, test: (weights: CheckpointWeights, names: string[]) => Promise<void> | void, pick?: (name: string) => boolean) {
  const checkpoint = await openCheckpoint(path);
  const names = [...checkpoint.tensors.keys()].filter(pick ?? (() => true));
  const weights = await CheckpointWeights.open(checkpoint, names);
  try {
    await test(weights, names);
  } finally {
    weights.close();
    await checkpoint.close();
  }
}

describe('CheckpointWeights reads what torch saved', () => {
  it('torch-mixed.pt (views, offsets, transposes, tied storages, bf16/fp16/fp64): float32 equals torch bit for bit', async () => {
    const facts = expected['torch-mixed.pt'].tensors as Record<string, { float32_sha256?: string; shape: number[] }>;
    const floats = Object.entries(facts).filter(([, want]) => want.float32_sha256);
    expect(floats.length).toBeGreaterThan(5);
    await withWeights(join(FIXTURES, 'torch-mixed.pt'), (weights) => {
      for (const [name, want] of floats) {
        expect(weights.shape(name), name).toEqual(want.shape);
        expect(sha256(weights.float32(name)), name).toBe(want.float32_sha256);
      }
    });
  });

  it('a kl16.ckpt-style file (state dict under "model") in a folder, with the vae. prefix', async () => {
    const facts = expected['torch-kl16-style.ckpt'].tensors as Record<string, { float32_sha256?: string }>;
    await copyFile(join(FIXTURES, 'torch-kl16-style.ckpt'), join(folder.path, 'kl16.ckpt'));
    await withWeights(folder.path, (weights) => {
      for (const [name, want] of Object.entries(facts)) if (want.float32_sha256) expect(sha256(weights.float32(`vae.${name}`)), name).toBe(want.float32_sha256);
    });
  });

  it('safetensors written by safetensors.torch.save_file', async () => {
    const facts = expected['torch-saved.safetensors'].tensors as Record<string, { float32_sha256?: string }>;
    await withWeights(join(FIXTURES, 'torch-saved.safetensors'), (weights) => {
      for (const [name, want] of Object.entries(facts)) if (want.float32_sha256) expect(sha256(weights.float32(name)), name).toBe(want.float32_sha256);
    });
  });
});

describe('CheckpointWeights agrees with the async readers', () => {
  it('on every tensor of the tiny checkpoint (torch zip + kl16.ckpt)', async () => {
    const checkpoint = await openCheckpoint(await tinyCheckpointDir());
    const names = [...checkpoint.tensors.keys()];
    const weights = await CheckpointWeights.open(checkpoint, names);
    try {
      expect(names.length).toBeGreaterThan(400);
      for (const name of names) expect(sha256(weights.float32(name)), name).toBe(sha256(await checkpoint.readFloat32(name)));
    } finally {
      weights.close();
      await checkpoint.close();
    }
  });

  it('on a sharded safetensors folder with an index', async () => {
    const shard = (tensors: [string, number][]) =>
      encodeSafetensors(tensors.map(([name, seed]) => ({ name, dtype: 'bfloat16' as const, shape: [3, 2], data: patternBytes(12, seed) })));
    await writeFile(
      join(folder.path, 'model-00001-of-00002.safetensors'),
      shard([
        ['a', 1],
        ['b', 2],
      ]),
    );
    await writeFile(join(folder.path, 'model-00002-of-00002.safetensors'), shard([['c', 3]]));
    const weightMap = { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' };
    await writeFile(join(folder.path, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    const checkpoint = await openCheckpoint(folder.path);
    const weights = await CheckpointWeights.open(checkpoint, ['a', 'b', 'c']);
    try {
      for (const name of ['a', 'b', 'c']) expect([...weights.float32(name)], name).toEqual([...(await checkpoint.readFloat32(name))]);
    } finally {
      weights.close();
      await checkpoint.close();
    }
  });
});

describe('CheckpointWeights boundaries', () => {
  it('a subset answers only for its names, and every read is a fresh copy', async () => {
    await withWeights(
      join(FIXTURES, 'torch-saved.safetensors'),
      (weights, names) => {
        const [first, second] = names;
        const subset = weights.subset([first]);
        expect(subset.has(first)).toBe(true);
        expect(subset.has(second)).toBe(false);
        expect(() => subset.float32(second)).toThrow(InvalidModelError);
        const a = subset.float32(first);
        a.fill(123);
        expect(subset.float32(first)).not.toEqual(a);
        expect(() => weights.subset(['not-there'])).toThrow(/missing weight not-there/);
      },
      (name) => expected['torch-saved.safetensors'].tensors[name].float32_sha256 !== undefined,
    );
  });

  it('names a tensor the checkpoint does not have', async () => {
    const checkpoint = await openCheckpoint(join(FIXTURES, 'torch-saved.safetensors'));
    try {
      await expect(CheckpointWeights.open(checkpoint, ['nope'])).rejects.toThrow(/has no tensor "nope"/);
    } finally {
      await checkpoint.close();
    }
  });

  it('a file cut short after it was opened fails with InvalidModelError, not a short array', async () => {
    const path = join(folder.path, 'w.safetensors');
    await writeFile(path, encodeSafetensors([{ name: 'w', dtype: 'float32', shape: [64], data: patternBytes(256, 9) }]));
    const checkpoint = await openCheckpoint(path);
    const weights = await CheckpointWeights.open(checkpoint, ['w']);
    try {
      expect(weights.float32('w')).toHaveLength(64);
      await truncate(path, (await readFile(path)).length - 10);
      expect(() => weights.float32('w')).toThrow(InvalidModelError);
      expect(() => weights.float32('w')).toThrow(/truncated/);
    } finally {
      weights.close();
      await checkpoint.close();
    }
  });
});
