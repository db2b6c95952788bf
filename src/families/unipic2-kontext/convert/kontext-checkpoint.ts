import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../../errors/model-not-found-error.js';
import { readJsonFile } from '../../../convert/readers/json-file.js';
import { SafetensorsFile } from '../../../convert/readers/safetensors-file-reader.js';
import { ShardedCheckpoint } from '../../../convert/readers/sharded-checkpoint-reader.js';
import type { TensorDescriptor, TensorSource } from '../../../convert/readers/tensor-descriptor.js';

/** The weight folders of the published layout; their names prefix the keys of the unified view. */
export const COMPONENTS = ['transformer', 'vae', 'text_encoder', 'text_encoder_2', 'text_encoder_3'] as const;
export type Component = (typeof COMPONENTS)[number];
const OPTIONAL: ReadonlySet<Component> = new Set(['text_encoder_3']);

const SHARD = /-\d{5}-of-\d{5}\.safetensors$/;
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/**
 * Whether a folder is a diffusers SD3-style checkpoint of this family (the converter's detection):
 * an SD3 transformer, a VAE and the two CLIP text encoders, and no Metaquery `conditioner/`.
 */
export async function isKontextCheckpoint(root: string): Promise<boolean> {
  if (!existsSync(join(root, 'transformer', 'config.json')) || !existsSync(join(root, 'vae'))) return false;
  // Metaquery checkpoints carry the same transformer with a `conditioner/` instead of the text encoders.
  if (!existsSync(join(root, 'text_encoder')) || !existsSync(join(root, 'text_encoder_2')) || existsSync(join(root, 'conditioner'))) return false;
  const config = (await readJsonFile(join(root, 'transformer', 'config.json'), 1 << 20)) as { _class_name?: unknown };
  return typeof config?._class_name === 'string' && /^SD3Transformer2D(Kontext)?Model$/.test(config._class_name);
}

/**
 * The diffusers folder as one read-on-demand tensor view, keys `<component>.<key>`. Each component
 * holds one `.safetensors` file or an index with its shards; the index must name exactly the shard
 * files present, and each shard exactly the tensors the index gives it (ShardedCheckpoint checks
 * the latter). Anything else that looks like weights (`.bin`, a second file) is refused, so the
 * converter never picks between two sets of weights.
 */
export class KontextCheckpoint {
  private constructor(
    readonly root: string,
    readonly tensors: ReadonlyMap<string, TensorDescriptor>,
    readonly components: ReadonlySet<Component>,
    readonly files: readonly string[],
    private readonly sources: readonly TensorSource[],
  ) {}

  static async open(root: string): Promise<KontextCheckpoint> {
    try {
      if (!(await stat(root)).isDirectory()) throw new InvalidModelError(`${root} is not a folder`);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelNotFoundError(`checkpoint folder ${root} does not exist`, { cause });
      throw cause;
    }
    const sources: TensorSource[] = [];
    const tensors = new Map<string, TensorDescriptor>();
    const components = new Set<Component>();
    const files: string[] = [];
    try {
      for (const component of COMPONENTS) {
        const folder = join(root, component);
        if (!existsSync(folder)) {
          if (OPTIONAL.has(component)) continue;
          throw new InvalidModelError(`${root} has no ${component}/ folder (a UniPic2-SD3.5M-Kontext checkpoint has ${COMPONENTS.join(', ')})`);
        }
        const source = await openComponent(folder, component);
        sources.push(source);
        components.add(component);
        files.push(source.path);
        for (const [name, descriptor] of source.tensors) tensors.set(`${component}.${name}`, { ...descriptor, name: `${component}.${name}` });
      }
    } catch (error) {
      await Promise.all(sources.map((s) => s.close()));
      throw error;
    }
    return new KontextCheckpoint(root, tensors, components, files, sources);
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close()));
  }
}

async function openComponent(folder: string, component: Component): Promise<TensorSource> {
  const names = (await readdir(folder)).sort();
  const indexes = names.filter((n) => n.endsWith('.safetensors.index.json'));
  const singles = names.filter((n) => n.endsWith('.safetensors') && !SHARD.test(n));
  const shards = names.filter((n) => SHARD.test(n));
  const pickles = names.filter((n) => /\.(bin|pt|pth|ckpt)$/.test(n) || n.endsWith('.bin.index.json'));
  if (pickles.length) throw new InvalidModelError(`${component}/ holds PyTorch pickle weights (${pickles.join(', ')}); only safetensors are read for this family`);
  if (indexes.length > 1 || (indexes.length === 1 && singles.length > 0) || singles.length > 1) {
    throw new InvalidModelError(`${component}/ holds more than one set of weights (${[...indexes, ...singles].join(', ')})`);
  }
  if (indexes.length === 1) {
    const indexPath = join(folder, indexes[0]);
    const index = (await readJsonFile(indexPath, MAX_INDEX_BYTES)) as { weight_map?: Record<string, unknown> } | null;
    const named = new Set(Object.values(index?.weight_map ?? {}).filter((v): v is string => typeof v === 'string'));
    const missing = [...named].filter((file) => !names.includes(file));
    if (missing.length)
      throw new InvalidModelError(`${component}/${indexes[0]} names shard files that are missing: ${missing.join(', ')}`, { details: { missing } });
    const extra = shards.filter((file) => !named.has(file));
    if (extra.length) throw new InvalidModelError(`${component}/ holds shard files its index does not name: ${extra.join(', ')}`, { details: { extra } });
    return ShardedCheckpoint.open(indexPath);
  }
  if (shards.length) throw new InvalidModelError(`${component}/ holds shards (${shards.join(', ')}) but no .safetensors.index.json`);
  if (singles.length === 0) throw new InvalidModelError(`${component}/ has no .safetensors weights`);
  return SafetensorsFile.open(join(folder, singles[0]));
}
