import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/families/unipic1/convert/open-checkpoint.js';
import { openSafetensorsFile } from '../../../src/convert/readers/safetensors-file-reader.js';
import type { TensorDescriptor, TensorSource } from '../../../src/convert/readers/tensor-descriptor.js';
import { openTorchCheckpoint } from '../../../src/convert/readers/torch-checkpoint-reader.js';
import { writeTorchCheckpoint, type TorchStorageInput, type TorchTensorInput } from '../../../src/convert/writers/torch-checkpoint-writer.js';
import { contiguousStride } from '../../../src/formats/strided-layout.js';
import { temporaryFolder } from './support/checkpoint-test-helpers.js';

// The PyTorch oracle (tools/reference, torch 2.4.1) writes the tiny model in the official formats
// with expected-state.json: key → dtype, shape, sha256 of the contiguous little-endian bytes, and
// for views their stride/offset and the key whose storage they share. Equal sha256 = bit-exact
// (tolerance 0). These files must exist: a missing fixture fails the test rather than skipping it.
const REFERENCE = join(import.meta.dirname, '..', '..', 'fixtures', 'reference');

interface ExpectedTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly sha256: string;
  readonly sharesStorageWith?: string;
  readonly storageOffset?: number;
  readonly stride?: number[];
}
type ExpectedState = Record<string, ExpectedTensor>;

const readExpected = (relative: string): ExpectedState => JSON.parse(readFileSync(join(REFERENCE, relative), 'utf8')) as ExpectedState;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Every key, in order, with dtype, shape, layout, storage sharing and bytes as torch describes them. */
async function expectMatches(source: TensorSource, expected: ExpectedState, prefix = ''): Promise<void> {
  expect([...source.tensors.keys()]).toEqual(Object.keys(expected));
  const firstOfStorage = new Map<string, string>();
  for (const [name, want] of Object.entries(expected)) {
    const tensor = source.tensors.get(name) as TensorDescriptor;
    expect({ name, dtype: tensor.dtype, shape: tensor.shape }).toEqual({ name, dtype: want.dtype, shape: want.shape });
    expect(tensor.storageOffset, name).toBe(want.storageOffset ?? 0);
    if (want.stride) expect(tensor.stride, name).toEqual(want.stride);
    else expect(tensor.stride, name).toEqual(contiguousStride(want.shape));
    const first = firstOfStorage.get(tensor.storage.id);
    expect(first, `${prefix}${name} storage sharing`).toBe(want.sharesStorageWith);
    if (first === undefined) firstOfStorage.set(tensor.storage.id, name);
    expect(sha256(await source.readBytes(name)), `${prefix}${name} bytes`).toBe(want.sha256);
  }
}

describe('reference checkpoints written by the PyTorch oracle', () => {
  for (const folder of ['checkpoint', 'checkpoint-bf16', 'checkpoint-odd']) {
    it(`${folder}/pytorch_model.bin reads bit-identically`, async () => {
      const checkpoint = await openTorchCheckpoint(join(REFERENCE, folder, 'pytorch_model.bin'));
      try {
        await expectMatches(checkpoint, readExpected(`${folder}/expected-state.json`));
      } finally {
        await checkpoint.close();
      }
    });
  }

  it('checkpoint/kl16.ckpt ("model" sub-dict) reads bit-identically', async () => {
    const checkpoint = await openTorchCheckpoint(join(REFERENCE, 'checkpoint', 'kl16.ckpt'), { select: ['model'] });
    try {
      await expectMatches(checkpoint, readExpected('checkpoint/kl16.expected-state.json'));
    } finally {
      await checkpoint.close();
    }
  });

  it('checkpoint/Qwen2.5-1.5B-Instruct/model.safetensors reads bit-identically', async () => {
    const file = await openSafetensorsFile(join(REFERENCE, 'checkpoint', 'Qwen2.5-1.5B-Instruct', 'model.safetensors'));
    try {
      // safetensors stores no order of its own beyond offsets; compare as sets, then bytes.
      const expected = readExpected('checkpoint/Qwen2.5-1.5B-Instruct.expected-state.json');
      expect([...file.tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        expect(file.tensors.get(name)).toMatchObject({ dtype: want.dtype, shape: want.shape });
        expect(sha256(await file.readBytes(name)), name).toBe(want.sha256);
      }
    } finally {
      await file.close();
    }
  });

  it('openCheckpoint gives the unified view of the official folder', async () => {
    const unipic = readExpected('checkpoint/expected-state.json');
    const vae = readExpected('checkpoint/kl16.expected-state.json');
    const llm = readExpected('checkpoint/Qwen2.5-1.5B-Instruct.expected-state.json');
    const checkpoint = await openCheckpoint(join(REFERENCE, 'checkpoint'));
    try {
      const winner = new Map<string, ExpectedTensor>();
      for (const [name, want] of Object.entries(llm)) winner.set(`llm.${name}`, want);
      for (const [name, want] of Object.entries(vae)) winner.set(`vae.${name}`, want);
      for (const [name, want] of Object.entries(unipic)) winner.set(name, want);
      expect([...checkpoint.tensors.keys()].sort()).toEqual([...winner.keys()].sort());
      const overlapping = Object.keys(llm)
        .map((name) => `llm.${name}`)
        .filter((name) => name in unipic);
      expect(overlapping.length).toBeGreaterThan(0);
      expect(checkpoint.shadowed.map(({ name }) => name).sort()).toEqual(overlapping.sort());
      for (const [name, want] of winner) {
        expect(checkpoint.tensors.get(name)?.dtype, name).toBe(want.dtype);
        expect(sha256(await checkpoint.readBytes(name)), name).toBe(want.sha256);
      }
      expect(checkpoint.sharedStorages()).toContainEqual(['llm.model.embed_tokens.weight', 'llm.lm_head.weight']);
      expect(checkpoint.llmConfig?.model_type).toBe('qwen2');
    } finally {
      await checkpoint.close();
    }
  });
});

describe('the writer on the reference state', () => {
  let folder: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    folder = await temporaryFolder();
  });
  afterEach(async () => {
    await folder.remove();
  });

  it('re-saves checkpoint-odd (views, shared storage, fp16, bf16, scalars) and reads back the same', async () => {
    const source = await openTorchCheckpoint(join(REFERENCE, 'checkpoint-odd', 'pytorch_model.bin'));
    const storages = new Map<string, TorchStorageInput>();
    const tensors: Array<[string, TorchTensorInput]> = [];
    try {
      for (const [name, tensor] of source.tensors) {
        let storage = storages.get(tensor.storage.id);
        if (!storage) {
          storage = { dtype: tensor.dtype, data: await source.readStorageBytes(name) };
          storages.set(tensor.storage.id, storage);
        }
        tensors.push([name, { dtype: tensor.dtype, shape: tensor.shape, stride: tensor.stride, storageOffset: tensor.storageOffset, storage }]);
      }
    } finally {
      await source.close();
    }
    const path = join(folder.path, 'pytorch_model.bin');
    await writeTorchCheckpoint(path, tensors);
    const again = await openTorchCheckpoint(path);
    try {
      await expectMatches(again, readExpected('checkpoint-odd/expected-state.json'));
    } finally {
      await again.close();
    }
  });
});
