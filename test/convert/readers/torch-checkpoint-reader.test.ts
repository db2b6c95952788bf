import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTorchCheckpoint } from '../../../src/convert/readers/torch-checkpoint-reader.js';
import { PickleEncoder } from '../../../src/convert/writers/pickle-encoder.js';
import { writeTorchCheckpoint } from '../../../src/convert/writers/torch-checkpoint-writer.js';
import { InvalidModelError } from '../../../src/errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../../src/errors/model-not-found-error.js';
import { patternBytes, temporaryFolder, writeZip } from './support/checkpoint-test-helpers.js';

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

interface TensorSpec {
  readonly storageType?: string;
  readonly key?: string;
  readonly numel: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly offset?: number;
  /** How the tensor is built: the plain rebuild, as a Parameter, or through _rebuild_from_type_v2. */
  readonly via?: 'tensor' | 'parameter' | 'parameter-with-state' | 'from-type';
}

function intTuple(pickle: PickleEncoder, values: readonly number[]): void {
  pickle.mark();
  for (const value of values) pickle.int(value);
  pickle.tupleFromMark();
}

function rebuildTensorCall(pickle: PickleEncoder, spec: TensorSpec): void {
  pickle.global('torch._utils', '_rebuild_tensor_v2');
  pickle.mark();
  pickle.mark();
  pickle.string('storage');
  pickle.global('torch', spec.storageType ?? 'FloatStorage');
  pickle.string(spec.key ?? '0');
  pickle.string('cpu');
  pickle.int(spec.numel);
  pickle.tupleFromMark();
  pickle.persistentId();
  pickle.int(spec.offset ?? 0);
  intTuple(pickle, spec.shape);
  intTuple(pickle, spec.stride);
  pickle.bool(false);
  pickle.global('collections', 'OrderedDict');
  pickle.emptyTuple();
  pickle.reduce();
  pickle.tupleFromMark();
  pickle.reduce();
}

/** `data.pkl` of a one-tensor state dict, built opcode by opcode the way torch.save builds it. */
function tensorPickle(spec: TensorSpec, wrap?: (pickle: PickleEncoder) => void): Uint8Array {
  const pickle = new PickleEncoder();
  pickle.global('collections', 'OrderedDict');
  pickle.emptyTuple();
  pickle.reduce();
  pickle.mark();
  pickle.string('w');
  const via = spec.via ?? 'tensor';
  if (via === 'tensor') rebuildTensorCall(pickle, spec);
  else if (via === 'from-type') {
    // _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, (args...), {})
    pickle.global('torch._tensor', '_rebuild_from_type_v2');
    pickle.mark();
    pickle.global('torch._utils', '_rebuild_tensor_v2');
    pickle.global('torch', 'Tensor');
    // The inner args tuple: reuse the call builder, then unwrap by building args directly.
    pickle.mark();
    pickle.mark();
    pickle.string('storage');
    pickle.global('torch', spec.storageType ?? 'FloatStorage');
    pickle.string(spec.key ?? '0');
    pickle.string('cpu');
    pickle.int(spec.numel);
    pickle.tupleFromMark();
    pickle.persistentId();
    pickle.int(spec.offset ?? 0);
    intTuple(pickle, spec.shape);
    intTuple(pickle, spec.stride);
    pickle.bool(false);
    pickle.global('collections', 'OrderedDict');
    pickle.emptyTuple();
    pickle.reduce();
    pickle.tupleFromMark();
    pickle.emptyDict();
    pickle.tupleFromMark();
    pickle.reduce();
  } else {
    pickle.global('torch._utils', via === 'parameter' ? '_rebuild_parameter' : '_rebuild_parameter_with_state');
    pickle.mark();
    rebuildTensorCall(pickle, spec);
    pickle.bool(true);
    pickle.global('collections', 'OrderedDict');
    pickle.emptyTuple();
    pickle.reduce();
    if (via === 'parameter-with-state') pickle.emptyDict();
    pickle.tupleFromMark();
    pickle.reduce();
  }
  wrap?.(pickle);
  pickle.setItems();
  return pickle.finish();
}

async function zipCheckpoint(name: string, pickle: Uint8Array, storages: Record<string, Uint8Array>, extra: Record<string, string> = {}): Promise<string> {
  const path = join(folder.path, name);
  await writeZip(path, [
    ['archive/data.pkl', pickle],
    ['archive/byteorder', extra.byteorder ?? 'little'],
    ...Object.entries(storages).map(([key, bytes]) => [`archive/data/${key}`, bytes] as const),
    ['archive/version', '3\n'],
  ]);
  return path;
}

const floats = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

describe('TorchCheckpoint accepts the rebuild forms torch.save emits', () => {
  for (const via of ['tensor', 'parameter', 'parameter-with-state', 'from-type'] as const) {
    it(`reads a tensor built via ${via}`, async () => {
      const path = await zipCheckpoint(`${via}.bin`, tensorPickle({ numel: 4, shape: [2, 2], stride: [1, 2], via }), { 0: floats([1, 2, 3, 4]) });
      const checkpoint = await openTorchCheckpoint(path);
      expect([...(await checkpoint.readFloat32('w'))]).toEqual([1, 3, 2, 4]);
      await checkpoint.close();
    });
  }

  it('reads an OrderedDict built from a list of pairs, and refuses other arguments', async () => {
    const pairs = (item: (pickle: PickleEncoder) => void): Uint8Array => {
      // OrderedDict([item])
      const pickle = new PickleEncoder();
      pickle.global('collections', 'OrderedDict');
      pickle.mark();
      pickle.emptyList();
      pickle.mark();
      item(pickle);
      pickle.appends();
      pickle.tupleFromMark();
      pickle.reduce();
      return pickle.finish();
    };
    const good = pairs((pickle) => {
      pickle.mark();
      pickle.string('w');
      rebuildTensorCall(pickle, { numel: 1, shape: [1], stride: [1] });
      pickle.tupleFromMark();
    });
    const checkpoint = await openTorchCheckpoint(await zipCheckpoint('pairs.bin', good, { 0: floats([4]) }));
    expect([...(await checkpoint.readFloat32('w'))]).toEqual([4]);
    await checkpoint.close();
    const bad = pairs((pickle) => pickle.string('not a pair'));
    await expect(openTorchCheckpoint(await zipCheckpoint('bad-pairs.bin', bad, {}))).rejects.toThrow(/list of pairs/);
  });
});

describe('TorchCheckpoint reads state dicts carrying _metadata', () => {
  it("accepts the BUILD that sets a state dict's _metadata and ignores it", async () => {
    // torch.save(model.state_dict()) pickles OrderedDict.__reduce__: items via SETITEMS, then
    // BUILD with {'_metadata': OrderedDict([('', {'version': 1})])}.
    const pickle = new PickleEncoder();
    pickle.global('collections', 'OrderedDict');
    pickle.emptyTuple();
    pickle.reduce();
    pickle.mark();
    pickle.string('w');
    rebuildTensorCall(pickle, { numel: 2, shape: [2], stride: [1] });
    pickle.setItems();
    pickle.emptyDict();
    pickle.string('_metadata');
    pickle.global('collections', 'OrderedDict');
    pickle.emptyTuple();
    pickle.reduce();
    pickle.string('');
    pickle.emptyDict();
    pickle.string('version');
    pickle.int(1);
    pickle.setItem();
    pickle.setItem();
    pickle.setItem();
    pickle.build();
    const checkpoint = await openTorchCheckpoint(await zipCheckpoint('metadata.bin', pickle.finish(), { 0: floats([5, 6]) }));
    expect([...checkpoint.tensors.keys()]).toEqual(['w']);
    expect(checkpoint.skipped).toEqual([]);
    expect([...(await checkpoint.readFloat32('w'))]).toEqual([5, 6]);
    await checkpoint.close();
  });
});

describe('TorchCheckpoint refuses hostile or broken checkpoints with typed errors', () => {
  it('refuses a data.pkl that calls posix.system and never reads storages', async () => {
    const pickle = new PickleEncoder();
    pickle.global('posix', 'system');
    pickle.mark();
    pickle.string('touch /tmp/pwned');
    pickle.tupleFromMark();
    pickle.reduce();
    const path = await zipCheckpoint('evil.bin', pickle.finish(), {});
    await expect(openTorchCheckpoint(path)).rejects.toThrow(InvalidModelError);
    await expect(openTorchCheckpoint(path)).rejects.toThrow(/"posix\.system"/);
  });

  it('refuses builtins.eval hidden inside a tensor rebuild', async () => {
    const bytes = tensorPickle({ numel: 1, shape: [1], stride: [1] }, (pickle) => {
      pickle.string('extra');
      pickle.global('builtins', 'eval');
      pickle.mark();
      pickle.string('1+1');
      pickle.tupleFromMark();
      pickle.reduce();
    });
    await expect(openTorchCheckpoint(await zipCheckpoint('eval.bin', bytes, { 0: floats([1]) }))).rejects.toThrow(/"builtins\.eval"/);
  });

  it('refuses an unknown storage type, naming it', async () => {
    const bytes = tensorPickle({ storageType: 'ComplexFloatStorage', numel: 1, shape: [1], stride: [1] });
    await expect(openTorchCheckpoint(await zipCheckpoint('complex.bin', bytes, { 0: new Uint8Array(8) }))).rejects.toThrow(/torch\.ComplexFloatStorage/);
  });

  it('refuses a storage entry shorter than numel × dtype size', async () => {
    const bytes = tensorPickle({ numel: 6, shape: [2, 3], stride: [3, 1] });
    await expect(openTorchCheckpoint(await zipCheckpoint('short.bin', bytes, { 0: floats([1, 2, 3, 4, 5]) }))).rejects.toThrow(
      /holds 20 bytes but 6 float32 elements need 24/,
    );
  });

  it('refuses a view that reaches past its storage', async () => {
    const bytes = tensorPickle({ numel: 4, shape: [2, 3], stride: [3, 1] });
    await expect(openTorchCheckpoint(await zipCheckpoint('past.bin', bytes, { 0: floats([1, 2, 3, 4]) }))).rejects.toThrow(/storage holds only 4/);
  });

  it('refuses a missing storage entry and an odd storage key', async () => {
    const missing = tensorPickle({ numel: 1, shape: [1], stride: [1], key: '7' });
    await expect(openTorchCheckpoint(await zipCheckpoint('missing.bin', missing, { 0: floats([1]) }))).rejects.toThrow(/archive\/data\/7/);
    const traversal = tensorPickle({ numel: 1, shape: [1], stride: [1], key: '../../etc/passwd' });
    await expect(openTorchCheckpoint(await zipCheckpoint('key.bin', traversal, {}))).rejects.toThrow(/not a plain name/);
  });

  it('refuses big-endian checkpoints', async () => {
    const bytes = tensorPickle({ numel: 1, shape: [1], stride: [1] });
    await expect(openTorchCheckpoint(await zipCheckpoint('big.bin', bytes, { 0: floats([1]) }, { byteorder: 'big' }))).rejects.toThrow(/byte order/);
  });

  it('refuses archives without exactly one data.pkl', async () => {
    const none = join(folder.path, 'none.bin');
    await writeZip(none, [['archive/version', '3']]);
    await expect(openTorchCheckpoint(none)).rejects.toThrow(/found none/);
    const two = join(folder.path, 'two.bin');
    await writeZip(two, [
      ['a/data.pkl', '.'],
      ['b/data.pkl', '.'],
    ]);
    await expect(openTorchCheckpoint(two)).rejects.toThrow(/found a, b/);
  });

  it('refuses a compressed data.pkl', async () => {
    const path = join(folder.path, 'deflated.bin');
    const pickle = tensorPickle({ numel: 1, shape: [1], stride: [1] });
    await writeZip(
      path,
      [
        ['archive/data.pkl', pickle],
        ['archive/data/0', floats([1])],
      ],
      { compress: ['archive/data.pkl'] },
    );
    await expect(openTorchCheckpoint(path)).rejects.toThrow(/compressed/);
  });

  it('names the legacy format, non-zip files and missing files', async () => {
    const legacy = join(folder.path, 'legacy.pt');
    await writeFile(legacy, Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]));
    await expect(openTorchCheckpoint(legacy)).rejects.toThrow(/legacy/);
    const text = join(folder.path, 'text.bin');
    await writeFile(text, 'version https://git-lfs.github.com/spec/v1\n');
    await expect(openTorchCheckpoint(text)).rejects.toThrow(/no zip signature/);
    await expect(openTorchCheckpoint(join(folder.path, 'absent.bin'))).rejects.toThrow(ModelNotFoundError);
  });

  it('kl16-style selection names the missing key and the keys present', async () => {
    const path = join(folder.path, 'plain.bin');
    await writeTorchCheckpoint(path, [['encoder.conv_in.weight', { dtype: 'float32', shape: [1], data: floats([1]) }]]);
    await expect(openTorchCheckpoint(path, { select: ['model'] })).rejects.toThrow(/no key "model" \(it has: encoder\.conv_in\.weight\)/);
  });

  it('skips plain data beside the state dict and reports it', async () => {
    // {"model": {"w": tensor}, "epoch": 5, "args": {"lr": 0.5}} flattened without selection.
    const pickle = new PickleEncoder();
    pickle.emptyDict();
    pickle.mark();
    pickle.string('model');
    pickle.emptyDict();
    pickle.string('w');
    rebuildTensorCall(pickle, { numel: 1, shape: [1], stride: [1] });
    pickle.setItem();
    pickle.string('epoch');
    pickle.int(5);
    pickle.string('args');
    pickle.emptyDict();
    pickle.string('lr');
    pickle.int(1);
    pickle.setItem();
    pickle.setItems();
    const path = await zipCheckpoint('wrapped.bin', pickle.finish(), { 0: floats([2.5]) });
    const all = await openTorchCheckpoint(path);
    expect([...all.tensors.keys()]).toEqual(['model.w']);
    expect(all.skipped).toEqual(['epoch', 'args.lr']);
    await all.close();
    const model = await openTorchCheckpoint(path, { select: ['model'] });
    expect([...(await model.readFloat32('w'))]).toEqual([2.5]);
    await model.close();
  });
});

describe('TorchCheckpoint on damaged files (bounded property test)', () => {
  it('truncations and byte flips of a real checkpoint open and read, or fail with InvalidModelError', async () => {
    const path = join(folder.path, 'good.bin');
    const storage = { dtype: 'float32' as const, data: patternBytes(4 * 12, 3) };
    await writeTorchCheckpoint(path, [
      ['a', { dtype: 'float32', shape: [3, 4], storage }],
      ['b', { dtype: 'float32', shape: [4, 3], stride: [1, 4], storage }],
      ['c', { dtype: 'bfloat16', shape: [5], data: patternBytes(10, 4) }],
    ]);
    const { readFile } = await import('node:fs/promises');
    const good = new Uint8Array(await readFile(path));
    const damaged = join(folder.path, 'damaged.bin');
    let state = 12345;
    const random = (limit: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % limit;
    };
    const unexpected: string[] = [];
    for (let run = 0; run < 150; run++) {
      let bytes = good.slice();
      if (run % 3 === 0) bytes = bytes.subarray(0, random(bytes.length));
      else for (let flip = 0; flip <= random(3); flip++) bytes[random(bytes.length)] = random(256);
      await writeFile(damaged, bytes);
      try {
        const checkpoint = await openTorchCheckpoint(damaged);
        try {
          for (const name of checkpoint.tensors.keys()) await checkpoint.readBytes(name);
        } finally {
          await checkpoint.close();
        }
      } catch (error) {
        if (!(error instanceof InvalidModelError)) unexpected.push(`run ${run}: ${String(error)}`);
      }
    }
    expect(unexpected).toEqual([]);
  });
});
