import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSafetensorsFile } from '../../../src/convert/readers/safetensors-file-reader.js';
import { openShardedCheckpoint } from '../../../src/convert/readers/sharded-checkpoint-reader.js';
import { writeSafetensorsFile } from '../../../src/convert/writers/safetensors-file-writer.js';
import { writeTorchCheckpoint } from '../../../src/convert/writers/torch-checkpoint-writer.js';
import { InvalidModelError } from '../../../src/errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../../src/errors/model-not-found-error.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import { encodeSafetensors } from '../../../src/formats/safetensors-encoder.js';
import { patternBytes, temporaryFolder } from './support/checkpoint-test-helpers.js';

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

describe('SafetensorsFile', () => {
  it('reads one tensor at a time, bit for bit, from a streamed file', async () => {
    const path = join(folder.path, 'tables-64.safetensors');
    const big = patternBytes(4 * 1088 * 32, 1);
    const half = patternBytes(2 * 10, 2);
    let produced = 0;
    await writeSafetensorsFile(
      path,
      [
        { name: 'encoder_pos', dtype: 'float32', shape: [1088, 32], data: () => (produced++, big) },
        { name: 'h', dtype: 'bfloat16', shape: [2, 5], data: half },
      ],
      { size: '64' },
    );
    expect(produced).toBe(1);
    // The in-memory encoder writes the same bytes: one layout, two writers.
    const memory = encodeSafetensors(
      [
        { name: 'encoder_pos', dtype: 'float32', shape: [1088, 32], data: big },
        { name: 'h', dtype: 'bfloat16', shape: [2, 5], data: half },
      ],
      { size: '64' },
    );
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(memory))).toBe(true);
    const file = await openSafetensorsFile(path);
    try {
      expect(file.metadata).toEqual({ size: '64' });
      expect(file.tensors.get('h')).toMatchObject({ dtype: 'bfloat16', shape: [2, 5], stride: [5, 1], storageOffset: 0 });
      expect(Buffer.from(await file.readBytes('encoder_pos')).equals(Buffer.from(big))).toBe(true);
      const widened = await file.readFloat32('h');
      const halves = new Uint16Array(half.buffer);
      // bf16 → f32 is a 16-bit shift: compare bit patterns exactly.
      expect([...new Uint32Array(widened.buffer)]).toEqual([...halves].map((bits) => (bits << 16) >>> 0));
    } finally {
      await file.close();
    }
  });

  it('refuses a writer tensor whose bytes do not match its shape', async () => {
    const path = join(folder.path, 'bad.safetensors');
    await expect(writeSafetensorsFile(path, [{ name: 'a', dtype: 'float32', shape: [2], data: new Uint8Array(4) }])).rejects.toThrow(InvalidModelError);
    // Nothing is left behind, under the real name or the temporary one.
    expect(await readdir(folder.path)).toEqual([]);
  });

  it('refuses truncated files and files whose header lies', async () => {
    const path = join(folder.path, 'cut.safetensors');
    await writeFile(path, encodeSafetensors([{ name: 'a', dtype: 'float32', shape: [4], data: new Uint8Array(16) }]));
    await truncate(path, (await readFile(path)).length - 3);
    await expect(openSafetensorsFile(path)).rejects.toThrow(/need 16 data bytes/);
    await truncate(path, 20);
    await expect(openSafetensorsFile(path)).rejects.toThrow(/runs past the end/);
    await truncate(path, 3);
    await expect(openSafetensorsFile(path)).rejects.toThrow(/too short/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    await writeFile(path, huge);
    await expect(openSafetensorsFile(path)).rejects.toThrow(/exceeds/);
    await expect(openSafetensorsFile(join(folder.path, 'absent.safetensors'))).rejects.toThrow(ModelNotFoundError);
  });
});

describe('ShardedCheckpoint', () => {
  async function shard(name: string, tensors: Record<string, number>): Promise<void> {
    await writeFile(
      join(folder.path, name),
      encodeSafetensors(Object.entries(tensors).map(([tensor, seed]) => ({ name: tensor, dtype: 'float32', shape: [2], data: patternBytes(8, seed) }))),
    );
  }
  const index = (weightMap: Record<string, string>) =>
    writeFile(join(folder.path, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));

  it('reads tensors from the shard the index names', async () => {
    await shard('model-00001-of-00002.safetensors', { a: 1, b: 2 });
    await shard('model-00002-of-00002.safetensors', { c: 3 });
    await index({ a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' });
    const sharded = await openShardedCheckpoint(join(folder.path, 'model.safetensors.index.json'));
    expect(sharded.format).toBe('safetensors');
    expect([...sharded.tensors.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(Buffer.from(await sharded.readBytes('c')).equals(Buffer.from(patternBytes(8, 3)))).toBe(true);
    await sharded.close();
  });

  it('reads PyTorch shards', async () => {
    await writeTorchCheckpoint(join(folder.path, 'pytorch_model-00001-of-00001.bin'), [['w', { dtype: 'float32', shape: [2], data: patternBytes(8, 9) }]]);
    await writeFile(join(folder.path, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: { w: 'pytorch_model-00001-of-00001.bin' } }));
    const sharded = await openShardedCheckpoint(join(folder.path, 'pytorch_model.bin.index.json'));
    expect(sharded.format).toBe('pytorch');
    expect(Buffer.from(await sharded.readBytes('w')).equals(Buffer.from(patternBytes(8, 9)))).toBe(true);
    await sharded.close();
  });

  it('refuses an index that disagrees with its shards or leaves the folder', async () => {
    await shard('model-00001-of-00001.safetensors', { a: 1, b: 2 });
    const path = join(folder.path, 'model.safetensors.index.json');
    await index({ a: 'model-00001-of-00001.safetensors' });
    await expect(openShardedCheckpoint(path)).rejects.toThrow(/holds "b"/);
    await index({ a: 'model-00001-of-00001.safetensors', b: 'model-00001-of-00001.safetensors', z: 'model-00001-of-00001.safetensors' });
    await expect(openShardedCheckpoint(path)).rejects.toThrow(/lists "z"/);
    await index({ a: '../outside.safetensors' });
    await expect(openShardedCheckpoint(path)).rejects.toThrow(/not a shard file name/);
    await writeFile(path, '{"weight_map": [');
    await expect(openShardedCheckpoint(path)).rejects.toThrow(InvalidModelError);
    await index({ a: 'model-00009-of-00009.safetensors' });
    await expect(openShardedCheckpoint(path)).rejects.toThrow(ModelNotFoundError);
  });
});

describe('decodeSafetensors and SafetensorsFile agree', () => {
  it('exposes the same tensors', async () => {
    const bytes = encodeSafetensors([{ name: 'x', dtype: 'int32', shape: [3], data: patternBytes(12, 5) }]);
    const path = join(folder.path, 'x.safetensors');
    await writeFile(path, bytes);
    const file = await openSafetensorsFile(path);
    expect(Buffer.from(await file.readBytes('x')).equals(Buffer.from(decodeSafetensors(bytes).tensors.get('x')!.bytes))).toBe(true);
    await file.close();
  });
});
