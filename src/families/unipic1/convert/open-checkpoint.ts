import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../../errors/model-not-found-error.js';
import { readJsonFile } from '../../../convert/readers/json-file.js';
import { lookupTensor } from '../../../convert/readers/read-tensor.js';
import { SafetensorsFile } from '../../../convert/readers/safetensors-file-reader.js';
import { ShardedCheckpoint } from '../../../convert/readers/sharded-checkpoint-reader.js';
import { findSharedStorages, type TensorDescriptor, type TensorSource } from '../../../convert/readers/tensor-descriptor.js';
import { TorchCheckpoint } from '../../../convert/readers/torch-checkpoint-reader.js';

/**
 * Which part of the official folder a file is:
 * - `unipic`: `pytorch_model.bin` (or its shards, or a `.safetensors` a user converted it to),
 *   keys as saved (`llm.model.…`, `mar.…`, `proj_in.…`);
 * - `vae`: `kl16.ckpt`, its `"model"` sub-dict, keys prefixed `vae.` (the attribute name the
 *   official model gives the VAE, so a `vae.*` key in `pytorch_model.bin` names the same weight);
 * - `llm-base`: `Qwen2.5-1.5B-Instruct/`, keys prefixed `llm.` (HF's `model.layers.0…` becomes
 *   `llm.model.layers.0…`, the UniPic name of the same weight).
 */
export type CheckpointRole = 'llm-base' | 'vae' | 'unipic';

export interface CheckpointSourceInfo {
  readonly role: CheckpointRole;
  readonly path: string;
  readonly format: 'pytorch' | 'safetensors';
  /** Prepended to the file's own key names in the unified view. */
  readonly prefix: string;
  /** Unified names this source provides (including ones shadowed by a later source). */
  readonly names: readonly string[];
  /** Non-tensor values left out (e.g. an `epoch` beside `kl16.ckpt`'s "model"). */
  readonly skipped: readonly string[];
}

/** A name two sources both provide; `kept` is the file whose tensor the unified view uses. */
export interface ShadowedTensor {
  readonly name: string;
  readonly kept: string;
  readonly dropped: string;
}

// Later roles overwrite earlier ones, in the order the official code loads them: the LLM from
// its HF folder, the VAE from kl16.ckpt, then load_state_dict(pytorch_model.bin, strict=False).
const ROLE_ORDER: readonly CheckpointRole[] = ['llm-base', 'vae', 'unipic'];
const ROLE_PREFIX: Readonly<Record<CheckpointRole, string>> = { 'llm-base': 'llm.', vae: 'vae.', unipic: '' };
export const LLM_FOLDER = 'Qwen2.5-1.5B-Instruct';
export const VAE_FILE = 'kl16.ckpt';
const TORCH_FILE = /^pytorch_model.*\.bin$|\.(pt|pth)$/;
const TRAINER_FILE = /^(optimizer|scheduler|rng_state.*|training_args)\.(pt|pth|bin)$/;
const SHARD_FILE = /-\d{5}-of-\d{5}\.(safetensors|bin)$/;
const MAX_CONFIG_BYTES = 1024 * 1024;

interface OpenedSource {
  readonly role: CheckpointRole;
  readonly source: TensorSource;
}

/** The unified, read-one-tensor-at-a-time view of a UniPic checkpoint folder. */
export class UniPicCheckpoint {
  private constructor(
    readonly root: string,
    /** Unified name → descriptor (its `name` is the unified name). Key accounting is the converter's. */
    readonly tensors: ReadonlyMap<string, TensorDescriptor>,
    readonly sources: readonly CheckpointSourceInfo[],
    readonly shadowed: readonly ShadowedTensor[],
    /** Paths under the root that were not read (SigLIP folder, tokenizer and config files...). */
    readonly ignored: readonly string[],
    /** `config.json` of the LLM folder, when there is one. */
    readonly llmConfig: Readonly<Record<string, unknown>> | undefined,
    private readonly routes: ReadonlyMap<string, { source: TensorSource; name: string }>,
    private readonly opened: readonly TensorSource[],
  ) {}

  static async open(path: string): Promise<UniPicCheckpoint> {
    const plan = await planSources(path);
    const opened: OpenedSource[] = [];
    try {
      for (const { role, file, kind } of plan.files) {
        const select = role === 'vae' ? ['model'] : [];
        const source =
          kind === 'index'
            ? await ShardedCheckpoint.open(file)
            : kind === 'safetensors'
              ? await SafetensorsFile.open(file)
              : await TorchCheckpoint.open(file, { select });
        opened.push({ role, source });
      }
      if (opened.length === 0) throw new ModelNotFoundError(`no checkpoint files (pytorch_model.bin, kl16.ckpt, *.safetensors) in ${path}`);
      const llmConfig = plan.llmConfig === undefined ? undefined : await readLlmConfig(plan.llmConfig);
      return UniPicCheckpoint.assemble(path, opened, plan.ignored, llmConfig);
    } catch (error) {
      await Promise.all(opened.map(({ source }) => source.close()));
      throw error;
    }
  }

  private static assemble(root: string, opened: OpenedSource[], ignored: string[], llmConfig: Record<string, unknown> | undefined): UniPicCheckpoint {
    const ordered = [...opened].sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role));
    const tensors = new Map<string, TensorDescriptor>();
    const routes = new Map<string, { source: TensorSource; name: string }>();
    const shadowed: ShadowedTensor[] = [];
    const sources: CheckpointSourceInfo[] = [];
    for (const { role, source } of ordered) {
      const prefix = ROLE_PREFIX[role];
      const names: string[] = [];
      for (const [name, descriptor] of source.tensors) {
        const unified = prefix + name;
        const previous = routes.get(unified);
        if (previous) shadowed.push({ name: unified, kept: source.path, dropped: previous.source.path });
        tensors.set(unified, prefix === '' ? descriptor : { ...descriptor, name: unified });
        routes.set(unified, { source, name });
        names.push(unified);
      }
      sources.push({ role, path: source.path, format: source.format, prefix, names, skipped: source.skipped });
    }
    return new UniPicCheckpoint(
      root,
      tensors,
      sources,
      shadowed,
      ignored,
      llmConfig,
      routes,
      ordered.map(({ source }) => source),
    );
  }

  private route(name: string): { source: TensorSource; name: string } {
    lookupTensor(this.tensors, name, this.root);
    return this.routes.get(name) as { source: TensorSource; name: string };
  }

  async readBytes(name: string): Promise<Uint8Array> {
    const route = this.route(name);
    return route.source.readBytes(route.name);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const route = this.route(name);
    return route.source.readFloat32(route.name);
  }

  /** Groups of unified names whose tensors share one storage (e.g. a tied embedding and head). */
  sharedStorages(): string[][] {
    return findSharedStorages(this.tensors.values());
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((source) => source.close()));
  }
}

interface PlannedFile {
  readonly role: CheckpointRole;
  readonly file: string;
  readonly kind: 'pytorch' | 'safetensors' | 'index';
}

interface SourcePlan {
  files: PlannedFile[];
  ignored: string[];
  llmConfig?: string;
}

function classifyFile(name: string): PlannedFile['kind'] | undefined {
  if (name.endsWith('.safetensors.index.json') || name.endsWith('.bin.index.json')) return 'index';
  if (name.endsWith('.safetensors')) return 'safetensors';
  if (TORCH_FILE.test(name) || name === VAE_FILE) return 'pytorch';
  return undefined;
}

/** Whether the converter reads `name` (a file name, no folder) as weights when it lies in a checkpoint folder. */
export function isCheckpointWeightFile(name: string): boolean {
  return !TRAINER_FILE.test(name) && classifyFile(name) !== undefined;
}

async function isDirectory(path: string): Promise<boolean> {
  // stat, not the dirent: Hugging Face cache snapshots are folders of symlinks.
  return (await stat(path)).isDirectory();
}

/**
 * The weight files of one folder: an index when there is one (its shards are then not opened on
 * their own), else each weight file. Trainer side files (optimizer state, training args) are
 * pickles of arbitrary objects and are not weights, so they are left alone.
 */
async function weightFiles(folder: string, role: CheckpointRole, plan: SourcePlan, label: string): Promise<void> {
  const names = (await readdir(folder)).sort();
  const hasIndex = names.some((name) => classifyFile(name) === 'index');
  for (const name of names) {
    const file = join(folder, name);
    if (await isDirectory(file)) continue;
    if (role === 'llm-base' && name === 'config.json') continue;
    const kind = TRAINER_FILE.test(name) ? undefined : classifyFile(name);
    if (hasIndex && SHARD_FILE.test(name)) continue;
    if (name === VAE_FILE) plan.files.push({ role: 'vae', file, kind: 'pytorch' });
    else if (kind) plan.files.push({ role, file, kind });
    else plan.ignored.push(`${label}${name}`);
  }
}

async function planSources(path: string): Promise<SourcePlan> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new ModelNotFoundError(`checkpoint path ${path} does not exist`, { cause });
  }
  const plan: SourcePlan = { files: [], ignored: [] };
  if (info.isFile()) {
    const name = basename(path);
    const kind = classifyFile(name) ?? (name.endsWith('.bin') || name.endsWith('.ckpt') ? 'pytorch' : undefined);
    if (!kind) throw new InvalidModelError(`${path} is not a checkpoint file (.bin, .pt, .pth, kl16.ckpt, .safetensors, or an index)`);
    plan.files.push({ role: name === VAE_FILE ? 'vae' : 'unipic', file: path, kind });
    return plan;
  }
  for (const name of (await readdir(path)).sort()) {
    if (!(await isDirectory(join(path, name)))) continue;
    if (name === LLM_FOLDER) {
      await weightFiles(join(path, name), 'llm-base', plan, `${name}/`);
      plan.llmConfig = join(path, name, 'config.json');
    } else {
      plan.ignored.push(`${name}/`);
    }
  }
  await weightFiles(path, 'unipic', plan, '');
  return plan;
}

async function readLlmConfig(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  const config = await readJsonFile(path, MAX_CONFIG_BYTES);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new InvalidModelError(`${path} is not a JSON object`);
  return config as Record<string, unknown>;
}

/** Opens a UniPic checkpoint folder (or one checkpoint file); see `CheckpointRole` for the key naming. */
export function openCheckpoint(path: string): Promise<UniPicCheckpoint> {
  return UniPicCheckpoint.open(path);
}

/**
 * Whether `path` looks like a UniPic-1 checkpoint: `certain` when it has the official folder's
 * marks (`kl16.ckpt`, `Qwen2.5-1.5B-Instruct/`, `pytorch_model.bin`, `unipic-config.json`),
 * `possible` when it only has weight files this reader opens, `undefined` when it has neither.
 */
export async function detectUniPicCheckpoint(path: string): Promise<'certain' | 'possible' | undefined> {
  let plan: SourcePlan;
  try {
    plan = await planSources(path);
  } catch {
    return undefined;
  }
  if (plan.files.length === 0) return undefined;
  const marked =
    plan.files.some((file) => file.role !== 'unipic' || /^pytorch_model.*\.bin$/.test(basename(file.file))) ||
    (await stat(join(path, 'unipic-config.json')).then(
      () => true,
      () => false,
    ));
  return marked ? 'certain' : 'possible';
}
