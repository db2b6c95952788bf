import { basename, dirname, join } from 'node:path';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { readJsonFile } from './json-file.js';
import { lookupTensor } from './read-tensor.js';
import { SafetensorsFile } from './safetensors-file-reader.js';
import type { TensorDescriptor, TensorSource } from './tensor-descriptor.js';
import { TorchCheckpoint } from './torch-checkpoint-reader.js';

const MAX_INDEX_BYTES = 64 * 1024 * 1024;
// A shard is named by a plain file name beside the index: no folders, no way out of the folder.
const SHARD_NAME = /^(?!\.{1,2}$)[^/\\\0]+\.(safetensors|bin)$/;

/**
 * A Hugging Face sharded checkpoint: `model.safetensors.index.json` or
 * `pytorch_model.bin.index.json` with a `weight_map` from tensor name to shard file. The index
 * and the shards must agree exactly; a disagreement means an incomplete or mixed download.
 */
export class ShardedCheckpoint implements TensorSource {
  private constructor(
    readonly path: string,
    readonly format: 'pytorch' | 'safetensors',
    readonly tensors: ReadonlyMap<string, TensorDescriptor>,
    readonly skipped: readonly string[],
    readonly shards: ReadonlyMap<string, TensorSource>,
    private readonly owner: ReadonlyMap<string, TensorSource>,
  ) {}

  static async open(indexPath: string): Promise<ShardedCheckpoint> {
    const index = await readJsonFile(indexPath, MAX_INDEX_BYTES);
    const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
      throw new InvalidModelError(`${indexPath} has no weight_map object`);
    }
    const byShard = new Map<string, string[]>();
    for (const [name, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string' || !SHARD_NAME.test(shard)) {
        throw new InvalidModelError(`${indexPath}: tensor "${name}" maps to ${JSON.stringify(shard)}, not a shard file name`);
      }
      const names = byShard.get(shard);
      if (names) names.push(name);
      else byShard.set(shard, [name]);
    }
    const extensions = new Set([...byShard.keys()].map((shard) => shard.slice(shard.lastIndexOf('.') + 1)));
    if (extensions.size > 1) throw new InvalidModelError(`${indexPath} mixes safetensors and PyTorch shards`);
    const format = extensions.has('bin') ? 'pytorch' : 'safetensors';
    const shards = new Map<string, TensorSource>();
    try {
      const tensors = new Map<string, TensorDescriptor>();
      const owner = new Map<string, TensorSource>();
      const skipped: string[] = [];
      for (const [shard, names] of byShard) {
        const shardPath = join(dirname(indexPath), shard);
        const source = format === 'pytorch' ? await TorchCheckpoint.open(shardPath) : await SafetensorsFile.open(shardPath);
        shards.set(shard, source);
        skipped.push(...source.skipped.map((name) => `${shard}:${name}`));
        const listed = new Set(names);
        for (const name of source.tensors.keys()) {
          if (!listed.has(name)) throw new InvalidModelError(`${shardPath} holds "${name}", which ${basename(indexPath)} does not list for it`);
        }
        for (const name of names) {
          const tensor = source.tensors.get(name);
          if (!tensor) throw new InvalidModelError(`${basename(indexPath)} lists "${name}" in ${shard}, which does not hold it`);
          tensors.set(name, tensor);
          owner.set(name, source);
        }
      }
      return new ShardedCheckpoint(indexPath, format, tensors, skipped, shards, owner);
    } catch (error) {
      await Promise.all([...shards.values()].map((source) => source.close()));
      throw error;
    }
  }

  private source(name: string): TensorSource {
    lookupTensor(this.tensors, name, this.path);
    return this.owner.get(name) as TensorSource;
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return this.source(name).readBytes(name);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return this.source(name).readFloat32(name);
  }

  async close(): Promise<void> {
    await Promise.all([...this.shards.values()].map((source) => source.close()));
  }
}

export function openShardedCheckpoint(indexPath: string): Promise<ShardedCheckpoint> {
  return ShardedCheckpoint.open(indexPath);
}
