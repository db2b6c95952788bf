import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSharedStorages } from '../../../src/convert/readers/tensor-descriptor.js';
import { openTorchCheckpoint } from '../../../src/convert/readers/torch-checkpoint-reader.js';
import { openSafetensorsFile } from '../../../src/convert/readers/safetensors-file-reader.js';

// Files written by torch.save (PyTorch 2.4.1) with fixtures/make_torch_fixtures.py; torch's own
// view of each tensor (dtype, shape, stride, offset, sha256 of its contiguous bytes and of its
// float32 widening) is the oracle. Equality of sha256 = bit-exact, tolerance 0.
const FIXTURES = join(import.meta.dirname, 'fixtures');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'torch-expected.json'), 'utf8')) as Record<string, any>;

const sha256 = (bytes: Uint8Array | Float32Array): string =>
  createHash('sha256')
    .update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .digest('hex');

describe('checkpoints written by torch.save', () => {
  for (const file of ['torch-mixed.pt', 'torch-kl16-style.ckpt']) {
    it(`${file}: every tensor matches torch bit for bit`, async () => {
      const facts = expected[file];
      const checkpoint = await openTorchCheckpoint(join(FIXTURES, file), { select: facts.select ?? [] });
      try {
        expect([...checkpoint.tensors.keys()]).toEqual(Object.keys(facts.tensors));
        for (const [name, want] of Object.entries<any>(facts.tensors)) {
          const descriptor = checkpoint.tensors.get(name)!;
          expect({ name, dtype: descriptor.dtype, shape: descriptor.shape, stride: descriptor.stride, offset: descriptor.storageOffset }).toEqual({
            name,
            dtype: want.dtype,
            shape: want.shape,
            stride: want.stride,
            offset: want.storage_offset,
          });
          expect(sha256(await checkpoint.readBytes(name)), name).toBe(want.sha256);
          if (want.float32_sha256) expect(sha256(await checkpoint.readFloat32(name)), `${name} as float32`).toBe(want.float32_sha256);
        }
        if (facts.skipped) expect(checkpoint.skipped).toEqual(facts.skipped);
        if (facts.shared) expect(findSharedStorages(checkpoint.tensors.values())).toEqual(facts.shared);
      } finally {
        await checkpoint.close();
      }
    });
  }

  it('torch-saved.safetensors (safetensors.torch.save_file): every tensor matches torch bit for bit', async () => {
    const facts = expected['torch-saved.safetensors'];
    const file = await openSafetensorsFile(join(FIXTURES, 'torch-saved.safetensors'));
    try {
      expect([...file.tensors.keys()].sort()).toEqual(Object.keys(facts.tensors).sort());
      expect(file.metadata).toEqual({ format: 'pt' });
      for (const [name, want] of Object.entries<any>(facts.tensors)) {
        expect(file.tensors.get(name)).toMatchObject({ dtype: want.dtype, shape: want.shape, stride: want.stride });
        expect(sha256(await file.readBytes(name)), name).toBe(want.sha256);
        if (want.float32_sha256) expect(sha256(await file.readFloat32(name)), `${name} as float32`).toBe(want.float32_sha256);
      }
    } finally {
      await file.close();
    }
  });
});
