import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { InvalidModelError } from '../../../src/errors/invalid-model-error.js';
import { openTorchCheckpoint } from '../../../src/convert/readers/torch-checkpoint-reader.js';
import { findSharedStorages } from '../../../src/convert/readers/tensor-descriptor.js';
import { PickleEncoder } from '../../../src/convert/writers/pickle-encoder.js';
import { writeKl16Checkpoint, writeTorchCheckpoint, type TorchTensorInput } from '../../../src/convert/writers/torch-checkpoint-writer.js';
import { unpickle } from '../../../src/formats/pickle/pickle-machine.js';
import type { PickleTuple } from '../../../src/formats/pickle/pickle-values.js';
import { torchPicklePolicy } from '../../../src/formats/torch/torch-pickle-policy.js';
import { DTYPE_BYTE_SIZE, TENSOR_DTYPES } from '../../../src/formats/tensor-dtype.js';
import { naiveViewBytes, patternBytes, temporaryFolder } from '../readers/support/checkpoint-test-helpers.js';

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

describe('writeTorchCheckpoint → TorchCheckpoint (bit-identical round trips)', () => {
  it('round-trips every dtype, scalars and empty tensors', async () => {
    const tensors: Array<[string, TorchTensorInput]> = [];
    TENSOR_DTYPES.forEach((dtype, index) => {
      const shape = [3, 5];
      const bytes = patternBytes(15 * DTYPE_BYTE_SIZE[dtype], index + 1);
      if (dtype === 'bool') bytes.forEach((value, i) => (bytes[i] = value & 1));
      tensors.push([`t.${dtype}`, { dtype, shape, data: bytes }]);
    });
    tensors.push(['scalar', { dtype: 'float32', shape: [], data: new Uint8Array(new Float32Array([7.5]).buffer) }]);
    tensors.push(['empty', { dtype: 'bfloat16', shape: [0, 4], data: new Uint8Array(0) }]);
    const path = join(folder.path, 'pytorch_model.bin');
    await writeTorchCheckpoint(path, tensors);
    const checkpoint = await openTorchCheckpoint(path);
    try {
      expect([...checkpoint.tensors.keys()]).toEqual(tensors.map(([name]) => name));
      for (const [name, tensor] of tensors) {
        const descriptor = checkpoint.tensors.get(name)!;
        expect(descriptor.dtype).toBe(tensor.dtype);
        expect(descriptor.shape).toEqual(tensor.shape);
        expect(Buffer.from(await checkpoint.readBytes(name)).equals(Buffer.from(tensor.data!))).toBe(true);
      }
      expect([...(await checkpoint.readFloat32('scalar'))]).toEqual([7.5]);
      expect(checkpoint.archiveName).toBe('archive');
    } finally {
      await checkpoint.close();
    }
  });

  it('widens bf16 and fp16 to float32 exactly', async () => {
    const path = join(folder.path, 'half.bin');
    // bf16 0x3fc0 = 1.5, 0xc2f7 = -123.5; fp16 0x0001 = 2^-24 (subnormal), 0xfbff = -65504.
    await writeTorchCheckpoint(path, [
      ['b', { dtype: 'bfloat16', shape: [2], data: new Uint8Array(new Uint16Array([0x3fc0, 0xc2f7]).buffer) }],
      ['h', { dtype: 'float16', shape: [2], data: new Uint8Array(new Uint16Array([0x0001, 0xfbff]).buffer) }],
    ]);
    const checkpoint = await openTorchCheckpoint(path);
    expect([...(await checkpoint.readFloat32('b'))]).toEqual([1.5, -123.5]);
    expect([...(await checkpoint.readFloat32('h'))]).toEqual([2 ** -24, -65504]);
    await expect(checkpoint.readFloat32('missing')).rejects.toThrow(InvalidModelError);
    await checkpoint.close();
  });

  it('keeps non-contiguous views and shared storages (tied weights)', async () => {
    const storageBytes = patternBytes(4 * 24, 42);
    const storage = { dtype: 'float32' as const, data: storageBytes };
    const views: Array<[string, TorchTensorInput]> = [
      ['embed', { dtype: 'float32', shape: [4, 6], storage }],
      ['head', { dtype: 'float32', shape: [4, 6], storage }],
      ['transposed', { dtype: 'float32', shape: [6, 4], stride: [1, 6], storage }],
      ['column', { dtype: 'float32', shape: [4], stride: [6], storageOffset: 2, storage }],
      ['sliced', { dtype: 'float32', shape: [2, 3], stride: [12, 2], storageOffset: 1, storage }],
      ['broadcast', { dtype: 'float32', shape: [3, 2], stride: [0, 1], storageOffset: 5, storage }],
    ];
    const path = join(folder.path, 'views.bin');
    await writeTorchCheckpoint(path, views);
    const checkpoint = await openTorchCheckpoint(path);
    try {
      for (const [name, view] of views) {
        const want = naiveViewBytes(storageBytes, 'float32', view.shape, view.stride ?? [6, 1], view.storageOffset ?? 0);
        expect(Buffer.from(await checkpoint.readBytes(name)).equals(Buffer.from(want)), name).toBe(true);
        expect(checkpoint.tensors.get(name)!.stride).toEqual(view.stride ?? [6, 1]);
      }
      expect(findSharedStorages(checkpoint.tensors.values())).toEqual([views.map(([name]) => name)]);
    } finally {
      await checkpoint.close();
    }
  });

  it('writes kl16.ckpt as {"model": state_dict} and many keys (SETITEMS batches, LONG_BINPUT memo)', async () => {
    const path = join(folder.path, 'kl16.ckpt');
    const tensors = Array.from(
      { length: 1203 },
      (_, i) => [`encoder.block.${i}.weight`, { dtype: 'float16', shape: [2], data: patternBytes(4, i) }] as [string, TorchTensorInput],
    );
    await writeKl16Checkpoint(path, tensors);
    // Without a selection the nesting flattens into dotted names.
    const flat = await openTorchCheckpoint(path);
    expect([...flat.tensors.keys()][0]).toBe('model.encoder.block.0.weight');
    await flat.close();
    const checkpoint = await openTorchCheckpoint(path, { select: ['model'] });
    expect(checkpoint.tensors.size).toBe(1203);
    expect(Buffer.from(await checkpoint.readBytes('encoder.block.1202.weight')).equals(Buffer.from(tensors[1202][1].data!))).toBe(true);
    await checkpoint.close();
  });

  it('uses the given archive folder name', async () => {
    const path = join(folder.path, 'named.bin');
    await writeTorchCheckpoint(path, [['w', { dtype: 'uint8', shape: [1], data: new Uint8Array([9]) }]], { archiveName: 'named' });
    const checkpoint = await openTorchCheckpoint(path);
    expect(checkpoint.archiveName).toBe('named');
    expect([...(await checkpoint.readBytes('w'))]).toEqual([9]);
    await checkpoint.close();
  });

  it('refuses inconsistent input', async () => {
    const path = join(folder.path, 'bad.bin');
    const storage = { dtype: 'float32' as const, data: new Uint8Array(16) };
    await expect(writeTorchCheckpoint(path, [['a', { dtype: 'float32', shape: [3], data: new Uint8Array(8) }]])).rejects.toThrow(InvalidModelError);
    await expect(writeTorchCheckpoint(path, [['a', { dtype: 'float32', shape: [5], storage }]])).rejects.toThrow(/storage holds only 4/);
    await expect(writeTorchCheckpoint(path, [['a', { dtype: 'float16', shape: [2], storage }]])).rejects.toThrow(/storage is float32/);
    await expect(writeTorchCheckpoint(path, [['a', { dtype: 'float32', shape: [2] }]])).rejects.toThrow(/exactly one/);
  });
});

describe('PickleEncoder.int', () => {
  it('encodes every integer width so that the unpickler reads the same value', () => {
    const values = [
      0,
      1,
      255,
      256,
      65535,
      65536,
      -1,
      -256,
      2 ** 31 - 1,
      2 ** 31,
      -(2 ** 31),
      -(2 ** 31) - 1,
      2 ** 40,
      -(2 ** 47),
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    const pickle = new PickleEncoder();
    pickle.mark();
    for (const value of values) pickle.int(value);
    pickle.tupleFromMark();
    const decoded = unpickle(pickle.finish(), torchPicklePolicy);
    expect((decoded as PickleTuple).items).toEqual(values);
  });
});
