import { writeZipAtomically } from '../src/convert/writers/torch-checkpoint-writer.js';
import { contiguousStride } from '../src/formats/strided-layout.js';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import yazl from 'yazl';
import { bundledTokenizerDir } from '../src/convert/bundled-assets.js';
import { requiredTensors } from '../src/families/unipic1/convert/key-map.js';
import type { CheckpointConfig } from '../src/families/unipic1/convert/checkpoint-config.js';
import { PickleEncoder } from '../src/convert/writers/pickle-encoder.js';

/**
 * A random checkpoint of any structure in the official layout (`pytorch_model.bin`, `kl16.ckpt`,
 * `Qwen2.5-1.5B-Instruct/` with config and tokenizer), written as a stream: make-tiny holds the
 * whole state in memory first, which for UniPic-1.5B is 10 GB of float32 before the zip writer
 * starts. Here each storage is generated chunk by chunk while yazl writes it, so memory stays at
 * one chunk. The zip is the one torch.save writes (protocol-2 pickle, stored `data/<n>` entries,
 * the tied head as a second view of the embedding's storage), with ZIP64 records past 4 GB.
 *
 * Values: uniform with the tiny generator's scales (fan-in scaled matrices, norm gains near 1,
 * small biases, unit-order tables); a seeded xorshift per key, so reruns write the same bytes.
 */

const CHUNK_VALUES = 1 << 22;

interface PlannedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Index of the storage entry; tied tensors share one. */
  readonly storage: number;
}

interface PlannedStorage {
  readonly key: string;
  /** The tensor the bytes are generated for (seeds them). */
  readonly name: string;
  readonly shape: readonly number[];
  readonly elements: number;
}

export interface FullSizeCheckpointStats {
  readonly tensors: number;
  readonly bytes: number;
  readonly ms: number;
}

export async function writeFullSizeCheckpoint(directory: string, structure: CheckpointConfig, seed = 1234): Promise<FullSizeCheckpointStats> {
  const started = Date.now();
  await mkdir(directory, { recursive: true });
  const unipic: [string, readonly number[]][] = [];
  const vae: [string, readonly number[]][] = [];
  for (const [key, shape] of requiredTensors(structure)) (key.startsWith('vae.') ? vae : unipic).push([key.replace(/^vae\./, ''), shape]);
  // Keys official checkpoints carry and inference ignores, so the converter's accounting runs at full size too.
  unipic.push(['mar.class_emb.weight', [structure.mar.class_num, structure.mar.encoder_embed_dim]]);
  unipic.push(['siglip2_proj.0.weight', [structure.llm.hidden_size, 1152]]);
  unipic.push(['siglip2_proj.0.bias', [structure.llm.hidden_size]]);
  const bytes =
    (await writeStreamedTorchFile(join(directory, 'pytorch_model.bin'), unipic, seed, { tie: ['llm.model.embed_tokens.weight', 'llm.lm_head.weight'] })) +
    (await writeStreamedTorchFile(join(directory, 'kl16.ckpt'), vae, seed, { wrapKey: 'model', seedPrefix: 'vae.' }));

  const qwen = join(directory, 'Qwen2.5-1.5B-Instruct');
  await mkdir(qwen, { recursive: true });
  const { llm } = structure;
  const config = { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', torch_dtype: 'float32', use_sliding_window: false, ...llm };
  await writeFile(join(qwen, 'config.json'), JSON.stringify(config, null, 2));
  for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) await copyFile(join(bundledTokenizerDir(), file), join(qwen, file));
  return { tensors: unipic.length + vae.length + 1, bytes, ms: Date.now() - started };
}

interface TorchFileOptions {
  /** `[source, alias]`: save `alias` as a second view of `source`'s storage (a tied weight). */
  readonly tie?: readonly [string, string];
  readonly wrapKey?: string;
  /** Prepended to each key for its seed, so a VAE key seeds as its unified `vae.` name. */
  readonly seedPrefix?: string;
}

async function writeStreamedTorchFile(
  path: string,
  tensors: ReadonlyArray<readonly [string, readonly number[]]>,
  seed: number,
  options: TorchFileOptions,
): Promise<number> {
  const planned: PlannedTensor[] = [];
  const storages: PlannedStorage[] = [];
  for (const [name, shape] of tensors) {
    planned.push({ name, shape, storage: storages.length });
    storages.push({ key: String(storages.length), name, shape, elements: shape.reduce((a, b) => a * b, 1) });
    if (options.tie?.[0] === name) planned.push({ name: options.tie[1], shape, storage: storages.length - 1 });
  }
  const zip = new yazl.ZipFile();
  const stored = { compress: false, mtime: new Date(0) } as const;
  zip.addBuffer(Buffer.from(statePickle(planned, storages, options.wrapKey)), 'archive/data.pkl', stored);
  zip.addBuffer(Buffer.from('little'), 'archive/byteorder', stored);
  let total = 0;
  for (const storage of storages) {
    const size = storage.elements * 4;
    total += size;
    zip.addReadStreamLazy(`archive/data/${storage.key}`, { ...stored, size }, (done) =>
      done(null, Readable.from(randomChunks(`${options.seedPrefix ?? ''}${storage.name}`, storage.shape, seed), { objectMode: false })),
    );
  }
  zip.addBuffer(Buffer.from('3\n'), 'archive/version', stored);
  await writeZipAtomically(zip, path);
  return total;
}

/** `OrderedDict` of `_rebuild_tensor_v2(...)` calls, as torch.save pickles a state dict. */
function statePickle(tensors: readonly PlannedTensor[], storages: readonly PlannedStorage[], wrapKey?: string): Uint8Array {
  const pickle = new PickleEncoder();
  if (wrapKey !== undefined) {
    pickle.emptyDict();
    pickle.memoize();
    pickle.string(wrapKey);
    pickle.memoize();
  }
  pickle.global('collections', 'OrderedDict');
  pickle.emptyTuple();
  pickle.reduce();
  pickle.memoize();
  for (const [index, tensor] of tensors.entries()) {
    const storage = storages[tensor.storage];
    // Python's pickler flushes SETITEMS every 1000 pairs; so does torch.save's output.
    if (index % 1000 === 0) {
      if (index > 0) pickle.setItems();
      pickle.mark();
    }
    pickle.string(tensor.name);
    pickle.global('torch._utils', '_rebuild_tensor_v2');
    pickle.mark();
    pickle.mark();
    pickle.string('storage');
    pickle.global('torch', 'FloatStorage');
    pickle.string(storage.key);
    pickle.string('cpu');
    pickle.int(storage.elements);
    pickle.tupleFromMark();
    pickle.persistentId();
    pickle.int(0);
    intTuple(pickle, tensor.shape);
    intTuple(pickle, contiguousStride(tensor.shape));
    pickle.bool(false);
    pickle.global('collections', 'OrderedDict');
    pickle.emptyTuple();
    pickle.reduce();
    pickle.tupleFromMark();
    pickle.reduce();
  }
  if (tensors.length > 0) pickle.setItems();
  if (wrapKey !== undefined) pickle.setItem();
  return pickle.finish();
}

function intTuple(pickle: PickleEncoder, values: readonly number[]): void {
  pickle.mark();
  for (const value of values) pickle.int(value);
  pickle.tupleFromMark();
}

/** The scale rules of src/convert/tiny/random-state.ts, as (mean, standard deviation). */
function distribution(key: string, shape: readonly number[]): { mean: number; std: number } {
  if (/pos_embed_learned|fake_latent|mask_token|embed_tokens/.test(key)) return { mean: 0, std: 0.5 };
  const last = key.split('.').pop();
  if (last === 'weight' && shape.length === 1) return { mean: 1, std: 0.1 };
  if (last === 'bias' || shape.length < 2) return { mean: 0, std: 0.02 };
  return { mean: 0, std: 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)) };
}

function* randomChunks(key: string, shape: readonly number[], seed: number): Generator<Buffer> {
  const { mean, std } = distribution(key, shape);
  let state = (hashString(key) ^ seed) >>> 0 || 0x9e3779b9;
  const width = Math.sqrt(12) * std;
  const unit = width / 4294967296;
  const low = mean - width / 2;
  let left = shape.reduce((a, b) => a * b, 1);
  while (left > 0) {
    const chunk = new Float32Array(Math.min(CHUNK_VALUES, left));
    for (let i = 0; i < chunk.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk[i] = low + (state >>> 0) * unit;
    }
    left -= chunk.length;
    yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
