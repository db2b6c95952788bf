import { existsSync } from 'node:fs';
import { cp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { openTorchCheckpoint } from '../../src/convert/readers/torch-checkpoint-reader.js';
import { ZipArchive } from '../../src/convert/readers/zip-archive.js';
import { PickleEncoder } from '../../src/convert/writers/pickle-encoder.js';
import { writeTorchCheckpoint, type TorchTensorInput } from '../../src/convert/writers/torch-checkpoint-writer.js';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../src/errors/invalid-options-error.js';
import { ModelNotFoundError } from '../../src/errors/model-not-found-error.js';
import type { UniPicError } from '../../src/errors/unipic-error.js';
import { encodeSafetensors } from '../../src/formats/safetensors-encoder.js';
import { tinyCheckpointDir } from '../support/tiny-model.js';
import { temporaryFolder, writeZip } from './readers/support/checkpoint-test-helpers.js';

// Hostile and broken checkpoints go through the whole converter (not just the readers, which
// test/convert/readers covers byte by byte): each must end in a typed UniPicError that names the
// problem, before the output folder is even created, and nothing in a file may run.

let tiny: string;
let folder: { path: string; remove: () => Promise<void> };
let checkpoint: string;
let out: string;

beforeAll(async () => {
  tiny = await tinyCheckpointDir();
});
beforeEach(async () => {
  folder = await temporaryFolder();
  checkpoint = join(folder.path, 'checkpoint');
  out = join(folder.path, 'model');
  await cp(tiny, checkpoint, { recursive: true });
});
afterEach(async () => {
  await folder.remove();
});

const UNIPIC_FILE = () => join(checkpoint, 'pytorch_model.bin');

/** Converting must fail with `type` and `message`, leaving no output folder. */
async function expectRefused(type: abstract new (...args: never[]) => UniPicError, message: RegExp, options = {}): Promise<UniPicError> {
  const error = await convertCheckpoint(checkpoint, out, options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(existsSync(out), 'nothing may be written for a refused checkpoint').toBe(false);
  return error as UniPicError;
}

/** Every tensor of the tiny `pytorch_model.bin` as writer input (contiguous bytes, as stored). */
async function unipicEntries(): Promise<[string, TorchTensorInput][]> {
  const source = await openTorchCheckpoint(UNIPIC_FILE());
  try {
    const entries: [string, TorchTensorInput][] = [];
    for (const [name, tensor] of source.tensors) entries.push([name, { dtype: tensor.dtype, shape: tensor.shape, data: await source.readBytes(name) }]);
    return entries;
  } finally {
    await source.close();
  }
}

function callPickle(module: string, name: string, argument: string): Uint8Array {
  const pickle = new PickleEncoder();
  pickle.global(module, name);
  pickle.mark();
  pickle.string(argument);
  pickle.tupleFromMark();
  pickle.reduce();
  return pickle.finish();
}

async function evilZip(path: string, pickle: Uint8Array): Promise<void> {
  await writeZip(path, [
    ['archive/data.pkl', pickle],
    ['archive/byteorder', 'little'],
    ['archive/version', '3\n'],
  ]);
}

describe('a pickle that calls code', () => {
  for (const [module, name] of [
    ['os', 'system'],
    ['posix', 'system'],
    ['subprocess', 'check_call'],
    ['builtins', 'exec'],
  ] as const) {
    it(`${module}.${name} in pytorch_model.bin is refused by name and never runs`, async () => {
      const marker = join(folder.path, 'pwned');
      await evilZip(UNIPIC_FILE(), callPickle(module, name, `touch ${marker}`));
      await expectRefused(InvalidModelError, new RegExp(`"${module}\\.${name}"`));
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('os.system in kl16.ckpt (the VAE file) is refused too', async () => {
    await evilZip(join(checkpoint, 'kl16.ckpt'), callPickle('os', 'system', 'id'));
    await expectRefused(InvalidModelError, /"os\.system"/);
  });
});

describe('a truncated or corrupt zip', () => {
  for (const [label, keep] of [
    ['its last byte', (size: number) => size - 1],
    ['half of it', (size: number) => Math.floor(size / 2)],
    ['all but 100 bytes', () => 100],
  ] as const) {
    it(`pytorch_model.bin missing ${label}`, async () => {
      await truncate(UNIPIC_FILE(), keep((await stat(UNIPIC_FILE())).size));
      await expectRefused(InvalidModelError, /pytorch_model\.bin/);
    });
  }

  it('an empty pytorch_model.bin', async () => {
    await writeFile(UNIPIC_FILE(), new Uint8Array(0));
    await expectRefused(InvalidModelError, /not a PyTorch zip checkpoint/);
  });

  it('a tensor entry whose local header is overwritten (central directory intact) is found before any graph is written', async () => {
    // The storage of a weight the converter needs (ignored keys are never read, so their headers never matter).
    const source = await openTorchCheckpoint(UNIPIC_FILE());
    const entryName = source.tensors.get('mar.diffloss.net.final_layer.linear.weight')!.storage.entry!;
    await source.close();
    const archive = await ZipArchive.open(UNIPIC_FILE());
    const entry = archive.entries.get(entryName)!;
    await archive.close();
    const handle = await open(UNIPIC_FILE(), 'r+');
    await handle.write(new Uint8Array(4), 0, 4, entry.localHeaderOffset);
    await handle.close();
    await expectRefused(InvalidModelError, /no local file header/);
  });

  it('a missing checkpoint folder is ModelNotFoundError', async () => {
    await rm(checkpoint, { recursive: true });
    await expectRefused(ModelNotFoundError, /does not exist/);
  });
});

describe('weights with the wrong shapes or types', () => {
  it('a transposed projection is refused as a contradiction with the config, naming the key and its shape', async () => {
    const key = 'llm.model.layers.0.self_attn.k_proj.weight';
    const entries = await unipicEntries();
    const at = entries.findIndex(([name]) => name === key);
    const [rows, columns] = entries[at][1].shape;
    entries[at] = [key, { ...entries[at][1], shape: [columns, rows] }];
    await writeTorchCheckpoint(UNIPIC_FILE(), entries);
    const error = await expectRefused(
      InvalidModelError,
      new RegExp(`llm\\.num_key_value_heads: the tensor shapes say .*\\(${key.replaceAll('.', '\\.')}: \\[${columns}, ${rows}\\]\\)`),
    );
    expect((error.details as { conflicts: string[] }).conflicts).toHaveLength(1);
  });

  it('a missing required weight is refused with the list of what is missing', async () => {
    await writeTorchCheckpoint(
      UNIPIC_FILE(),
      (await unipicEntries()).filter(([name]) => name !== 'mar.diffloss.net.input_proj.weight'),
    );
    const error = await expectRefused(InvalidModelError, /lacks 1 required weights: mar\.diffloss\.net\.input_proj\.weight/);
    expect(error.details).toEqual({ missing: ['mar.diffloss.net.input_proj.weight'] });
  });

  it('an integer tensor where a float weight belongs is refused before building', async () => {
    const entries = (await unipicEntries()).map(([name, tensor]): [string, TorchTensorInput] =>
      name === 'llm.model.norm.weight' ? [name, { ...tensor, dtype: 'int32' }] : [name, tensor],
    );
    await writeTorchCheckpoint(UNIPIC_FILE(), entries);
    const error = await expectRefused(InvalidModelError, /1 weights are not floating point, e\.g\. llm\.model\.norm\.weight is int32/);
    expect(error.details).toEqual({ notFloat: [{ key: 'llm.model.norm.weight', dtype: 'int32' }] });
  });

  it('a storage type torch does not have (or unipic does not read) is refused by name', async () => {
    const archive = await ZipArchive.open(UNIPIC_FILE());
    const entries: [string, Uint8Array][] = [];
    for (const name of archive.entries.keys()) entries.push([name, await archive.readEntry(name)]);
    await archive.close();
    const pickle = Buffer.from(entries.find(([name]) => name.endsWith('data.pkl'))![1]);
    const patched = Buffer.from(pickle.toString('latin1').replace('torch\nFloatStorage\n', 'torch\nComplexFloatStorage\n'), 'latin1');
    expect(patched.length).toBe(pickle.length + 'Complex'.length);
    await writeZip(
      UNIPIC_FILE(),
      entries.map(([name, bytes]) => [name, name.endsWith('data.pkl') ? patched : bytes] as const),
    );
    await expectRefused(InvalidModelError, /torch\.ComplexFloatStorage/);
  });
});

describe('safetensors checkpoints', () => {
  /** The tiny checkpoint with pytorch_model.bin replaced by model.safetensors holding the same tensors. */
  async function safetensorsCheckpoint(): Promise<{ header: Record<string, any>; data: Uint8Array }> {
    const entries = (await unipicEntries()).filter(([name]) => name !== 'llm.lm_head.weight');
    const bytes = encodeSafetensors(entries.map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: [...tensor.shape], data: tensor.data! })));
    await rm(UNIPIC_FILE());
    const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + length)).toString('utf8')), data: bytes.subarray(8 + length) };
  }

  /** Writes model.safetensors with a header that may lie; the header is padded to keep the data where it was. */
  async function writeWithHeader(header: Record<string, any>, data: Uint8Array, headerLength?: number): Promise<void> {
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
    await writeFile(join(checkpoint, 'model.safetensors'), Buffer.concat([prefix, Buffer.from(json), data]));
  }

  it('the same weights as safetensors convert to byte-identical graphs (the control for the lies below)', async () => {
    const reference = await convertCheckpoint(checkpoint, join(folder.path, 'from-torch'), { dtypes: ['fp32'] });
    const { header, data } = await safetensorsCheckpoint();
    await writeWithHeader(header, data);
    const converted = await convertCheckpoint(checkpoint, out, { dtypes: ['fp32'] });
    const digests = (files: readonly { path: string; sha256: string }[]) => Object.fromEntries(files.map((f) => [f.path, f.sha256]));
    expect(digests(converted.manifest.files)).toEqual(digests(reference.manifest.files));
    expect(converted.manifest.source).toMatch(/model\.safetensors/);
  });

  it('data_offsets past the end of the file', async () => {
    const { header, data } = await safetensorsCheckpoint();
    const last = Object.keys(header)
      .filter((k) => k !== '__metadata__')
      .sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0])
      .at(-1)!;
    header[last].data_offsets[1] += 4;
    header[last].shape = [header[last].shape.reduce((a: number, b: number) => a * b, 1) + 1];
    await writeWithHeader(header, data);
    await expectRefused(InvalidModelError, /need \d+ data bytes but the file holds/);
  });

  it('two tensors claiming the same bytes', async () => {
    const { header, data } = await safetensorsCheckpoint();
    const [a, b] = ['llm.model.layers.0.input_layernorm.weight', 'llm.model.layers.0.post_attention_layernorm.weight'];
    header[b].data_offsets = [...header[a].data_offsets];
    await writeWithHeader(header, data);
    await expectRefused(InvalidModelError, /overlaps the bytes of another tensor|belong to no tensor/);
  });

  it('offsets that disagree with the shape', async () => {
    const { header, data } = await safetensorsCheckpoint();
    header['mar.mask_token'].shape = [1, 1, 3];
    await writeWithHeader(header, data);
    await expectRefused(InvalidModelError, /mar\.mask_token/);
  });

  it('a header length beyond the file', async () => {
    const { header, data } = await safetensorsCheckpoint();
    await writeWithHeader(header, data, 50_000_000);
    await expectRefused(InvalidModelError, /runs past the end/);
  });

  it('a dtype safetensors has and unipic does not read (F8_E4M3)', async () => {
    const { header, data } = await safetensorsCheckpoint();
    header['mar.fake_latent'].dtype = 'F8_E4M3';
    await writeWithHeader(header, data);
    await expectRefused(InvalidModelError, /unsupported dtype "F8_E4M3"/);
  });
});

describe('options', () => {
  it('an unknown dtype or a bad resolution is InvalidOptionsError, before the checkpoint is opened', async () => {
    await rm(checkpoint, { recursive: true });
    const error = await expectRefused(InvalidOptionsError, /dtypes: "int8" is not one of fp32, fp16, q4, q4f16, q8/, { dtypes: ['int8'] });
    expect((error as InvalidOptionsError).issues).toEqual([{ path: 'dtypes', message: '"int8" is not one of fp32, fp16, q4, q4f16, q8' }]);
    await expectRefused(InvalidOptionsError, /resolutions: -16/, { resolutions: [-16] });
    await expectRefused(InvalidOptionsError, /at least one dtype/, { dtypes: [] });
  });

  it('a resolution that is not a multiple of the VAE stride is refused before any graph is built', async () => {
    await expectRefused(InvalidOptionsError, /resolution 100 is not a multiple of the VAE stride 16/, { resolutions: [64, 100] });
  });
});

// Files the readers never open stay unread: a trainer pickle of arbitrary objects beside the weights.
it('a hostile trainer side file (optimizer.pt) is ignored, and the checkpoint still converts', async () => {
  await evilZip(join(checkpoint, 'optimizer.pt'), callPickle('os', 'system', 'id'));
  const summary = await convertCheckpoint(checkpoint, out, { dtypes: ['fp32'] });
  expect(summary.manifest.files.length).toBeGreaterThan(10);
  expect(await readFile(join(out, 'unipic.json'), 'utf8')).toContain('"format": "unipic"');
});
