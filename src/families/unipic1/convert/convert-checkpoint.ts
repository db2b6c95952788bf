import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { bundledTokenizerDir } from '../../../convert/bundled-assets.js';
import { isHubId } from '../../../core/hub/hub-id.js';
import { convertFromHub, type HubConvertOptions } from '../../../convert/hub/convert-from-hub.js';
import type { FetchedSnapshot } from '../../../node/hf-cache/fetch-hub-files.js';
import { uniPic1HubCheckpoint } from './hub-files.js';
import { throwIfAborted } from '../../../errors/abort-error.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import { DTYPES, type Dtype, type KvCacheKind } from '../../../spec/manifest.js';
import { UNIPIC1_FAMILY_VERSION, unipic1ManifestSchema, type UniPic1GraphName as GraphName, type UniPic1Manifest as Manifest } from '../manifest.js';
import { graphPlans, type GraphPlan } from './graph-plan.js';
import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';
import type { WeightSource } from '../../../convert/graphs/weights.js';
import { accountKeys, refuseUnusable, type KeyAccount } from './key-map.js';
import { fileEntry, writeManifest } from '../../../convert/model-folder-writer.js';
import { TABLE_KEYS, writeMarConstants, writeResolutionTables } from './mar-tables-writer.js';
import { GraphBuilder } from '../../../convert/onnx/graph-builder.js';
import { previousConversionFiles, refuseConvertedInput, removeStaleFiles } from '../../../convert/previous-conversion.js';
import { FileWeightSink } from '../../../convert/onnx/weight-sink.js';
import { UniPicCheckpoint } from './open-checkpoint.js';
import type { ConfigAccount } from '../../../convert/config-account.js';
import type { StructureField } from './infer-checkpoint-config.js';
import { LLM_FOLDER, resolveConfiguration } from './resolve-checkpoint-config.js';
import { CheckpointWeights } from '../../../convert/sync-weights.js';
import { toModelConfig, type CheckpointConfig } from './checkpoint-config.js';
import { writeTokenizerFiles } from '../../../convert/tokenizer/index.js';

export interface ConvertProgressEvent {
  /**
   * `read`: a graph's weights are located (then read while it builds); `build`: one dtype of a graph
   * is being built and written; `tables`, `tokenizer`; `hash`: sha256 of each written file, then
   * `unipic.json` with `done === total`.
   */
  readonly stage: 'read' | 'build' | 'tables' | 'tokenizer' | 'hash';
  /** Graph or file being worked on. */
  readonly item: string;
  /** Items finished so far, out of `total`. */
  readonly done: number;
  readonly total: number;
}

export interface ConvertOptions extends HubConvertOptions {
  /** Precisions to write (default fp32). Each adds a variant of every graph. */
  readonly dtypes?: readonly Dtype[];
  /** Output sizes to precompute position tables for (default: the structure's, 512 and 1024 for UniPic). */
  readonly resolutions?: readonly number[];
  /**
   * Structural numbers; default: inferred from the tensor shapes, the Qwen config.json and
   * `unipic-config.json` (docs/converter.md#variants). Checked against the shapes either way.
   */
  readonly structure?: CheckpointConfig;
  readonly name?: string;
  /**
   * Also write `diffusion_sampler` / `diffusion_sampler_plain`: the 100-step sampler with the head
   * inside one ONNX Loop (one run per block of steps instead of one per step; for GPUs). They
   * repeat the head's weights, so they are opt-in.
   */
  readonly fusedSampler?: boolean;
  /**
   * How the `llm` graph takes its KV cache (default `in-place`: a decode step costs the same at
   * 4,000 cached positions as at 40). `concat` writes the graph of earlier conversions, which the
   * SDK still runs (docs/model-format.md, "KV cache").
   */
  readonly kvCache?: KvCacheKind;
  readonly onProgress?: (event: ConvertProgressEvent) => void;
  readonly signal?: AbortSignal;
}

export interface ConvertedGraph {
  readonly graph: GraphName;
  readonly dtype: Dtype;
  /** Size of the `.onnx` file alone (the external data is in the manifest's file list). */
  readonly bytes: number;
  readonly ms: number;
}

export interface ConvertSummary {
  readonly manifest: Manifest;
  readonly graphs: readonly ConvertedGraph[];
  readonly keys: KeyAccount;
  /** Where each structure number came from (shapes, Qwen config, unipic-config.json, 1.5B default). */
  readonly structure: readonly StructureField[];
  /** Every field of every config file read: used, or ignored with the reason (anything else was refused). */
  readonly config: ConfigAccount;
  readonly warnings: readonly string[];
  /**
   * Files of an earlier conversion into the same folder (listed in its unipic.json) that the new
   * unipic.json does not list, now removed. Files the old manifest did not list are never touched.
   */
  readonly removed: readonly string[];
  readonly ms: number;
  /** For an `hf:` checkpoint: each repository fetched, the commit it resolved to, its snapshot folder. */
  readonly fetched?: readonly FetchedSnapshot[];
}

/**
 * Official UniPic checkpoint folder → model folder the SDK loads (docs/model-format.md). Graphs
 * are built op by op from the weights; each weight is read from the checkpoint when its builder
 * asks for it and its bytes stream to the output, so about one tensor is in memory at a time.
 * Every refusal (hostile or broken files, missing or misshapen weights) comes before the first
 * write; `unipic.json` is written last, so an interrupted run never looks like a model.
 */
export async function convertCheckpoint(checkpointDir: string, outDir: string, options: ConvertOptions = {}): Promise<ConvertSummary> {
  if (!isHubId(checkpointDir)) return convertFolder(checkpointDir, outDir, options);
  const started = Date.now();
  // Option errors are reported before anything is downloaded.
  checkOptions([...new Set<Dtype>(options.dtypes ?? ['fp32'])], options.resolutions);
  const { summary, snapshots } = await convertFromHub(
    checkpointDir,
    options,
    (folder, origin) => convertFolder(folder, outDir, options, origin),
    uniPic1HubCheckpoint,
    {},
    outDir,
  );
  return { ...summary, fetched: snapshots, ms: Date.now() - started };
}

/** `origin`: what the manifest's `source` names as the checkpoint (an `hf:` id pinned to its commit). */
async function convertFolder(checkpointDir: string, outDir: string, options: ConvertOptions, origin?: string): Promise<ConvertSummary> {
  const started = Date.now();
  const warnings: string[] = [];
  const dtypes: Dtype[] = [...new Set<Dtype>(options.dtypes ?? ['fp32'])];
  checkOptions(dtypes, options.resolutions);
  refuseConvertedInput(checkpointDir);
  const previousFiles = previousConversionFiles(outDir);
  const checkpoint = await UniPicCheckpoint.open(checkpointDir);
  try {
    const { resolved, keys } = await checkCheckpoint(checkpoint, checkpointDir, options.structure, warnings);
    const { structure } = resolved;
    const kvCache = options.kvCache ?? 'in-place';
    const config = toModelConfig(structure);
    const sizes = options.resolutions ?? structure.resolutions;
    const badSize = sizes.find((size) => size % config.mar.vaeStride !== 0);
    if (badSize !== undefined) {
      const message = `resolution ${badSize} is not a multiple of the VAE stride ${config.mar.vaeStride}`;
      throw options.resolutions ? new InvalidOptionsError(message, { details: { issues: [{ path: 'resolutions', message }] } }) : new InvalidModelError(message);
    }

    // Only required keys: an ignored (tied, equal) `llm.lm_head.weight` stays invisible.
    const weights = await CheckpointWeights.open(checkpoint, keys.required);
    let built: Awaited<ReturnType<typeof buildGraphs>>;
    let resolutions: Manifest['resolutions'];
    let constants: string;
    let stripDecoder: StripDecoderPlan | undefined;
    let stripEncoder: StripEncoderPlan | undefined;
    try {
      await mkdir(outDir, { recursive: true });
      const onStripPlan = (plan: StripDecoderPlan) => {
        stripDecoder = plan;
      };
      const onStripEncoderPlan = (plan: StripEncoderPlan) => {
        stripEncoder = plan;
      };
      built = await buildGraphs(
        graphPlans(structure, config, { fusedSampler: options.fusedSampler, onStripPlan, onStripEncoderPlan, kvCache }),
        weights,
        keys.required,
        dtypes,
        outDir,
        options,
      );
      options.onProgress?.({ stage: 'tables', item: 'position tables', done: built.done, total: built.done });
      const tableWeights = weights.subset(TABLE_KEYS);
      resolutions = await writeResolutionTables(outDir, tableWeights, config.mar, sizes);
      constants = await writeMarConstants(outDir, tableWeights, config.mar);
    } finally {
      weights.close();
    }

    options.onProgress?.({ stage: 'tokenizer', item: 'tokenizer', done: built.done, total: built.done });
    const qwen = join(checkpointDir, LLM_FOLDER);
    const hasTokenizer = existsSync(join(qwen, 'tokenizer.json')) || existsSync(join(qwen, 'vocab.json'));
    if (!hasTokenizer) warnings.push(`no tokenizer files in ${qwen}: using the Qwen2.5 tokenizer bundled with unipic`);
    const tokenizer = await writeTokenizerFiles(hasTokenizer ? qwen : bundledTokenizerDir(), outDir);

    const graphFiles = Object.values(built.graphs).flatMap((variants) => Object.values(variants ?? {}).flatMap((g) => (g ? [g.file, ...g.externalData] : [])));
    const paths = [...new Set(graphFiles), ...resolutions.map((r) => r.tables), constants, tokenizer.json, tokenizer.config];
    const files = [];
    for (const [i, path] of paths.entries()) {
      throwIfAborted(options.signal);
      options.onProgress?.({ stage: 'hash', item: path, done: i, total: paths.length });
      files.push(await fileEntry(outDir, path));
    }
    options.onProgress?.({ stage: 'hash', item: 'unipic.json', done: paths.length, total: paths.length });
    const manifest = await writeManifest(
      outDir,
      {
        family: 'unipic1',
        familyVersion: UNIPIC1_FAMILY_VERSION,
        name: options.name ?? 'unipic',
        source: `converted from ${origin ? `${origin} (${sourceFiles(checkpointDir, checkpoint)})` : sourceFiles(checkpointDir, checkpoint)}`,
        config,
        generation: resolved.generation,
        tokenizer,
        constants,
        resolutions,
        graphs: built.graphs,
        ...(stripDecoder ? { stripDecoder } : {}),
        ...(stripEncoder ? { stripEncoder } : {}),
        kvCache,
        // The layout the converter's in-place graph takes (`buildLlmGraph`'s default).
        ...(kvCache === 'in-place' ? { kvCacheLayout: 'values-transposed' as const } : {}),
        files,
      },
      unipic1ManifestSchema,
    );
    const removed = await removeStaleFiles(
      outDir,
      previousFiles,
      manifest.files.map((file) => file.path),
    );
    return { manifest, graphs: built.converted, keys, structure: resolved.fields, config: resolved.config, warnings, removed, ms: Date.now() - started };
  } finally {
    await checkpoint.close();
  }
}

function sourceFiles(checkpointDir: string, checkpoint: UniPicCheckpoint): string {
  return checkpoint.sources.map((s) => relative(checkpointDir, s.path) || basename(s.path)).join(', ');
}

/** What a conversion would take from a checkpoint, without writing anything (docs/converter.md#variants). */
export interface CheckpointInspection {
  readonly structure: CheckpointConfig;
  /** Where each structure number came from. */
  readonly fields: readonly StructureField[];
  /** Every field of every config file read: used, or ignored with the reason. */
  readonly config: ConfigAccount;
  readonly keys: KeyAccount;
  readonly generation: NonNullable<Manifest['generation']>;
  readonly warnings: readonly string[];
}

/**
 * Every check `convertCheckpoint` makes before it writes: the structure (inferred, or refused),
 * the config files' fields, the key accounting, the head tie. Throws what the conversion would.
 */
export async function inspectCheckpoint(checkpointDir: string, options: Pick<ConvertOptions, 'structure'> = {}): Promise<CheckpointInspection> {
  const warnings: string[] = [];
  const checkpoint = await UniPicCheckpoint.open(checkpointDir);
  try {
    const { resolved, keys } = await checkCheckpoint(checkpoint, checkpointDir, options.structure, warnings);
    return { structure: resolved.structure, fields: resolved.fields, config: resolved.config, keys, generation: resolved.generation, warnings };
  } finally {
    await checkpoint.close();
  }
}

async function checkCheckpoint(checkpoint: UniPicCheckpoint, checkpointDir: string, structure: CheckpointConfig | undefined, warnings: string[]) {
  const shapes = new Map([...checkpoint.tensors].map(([name, tensor]) => [name, tensor.shape] as const));
  const resolved = await resolveConfiguration(
    checkpointDir,
    { shapes, llmConfig: checkpoint.llmConfig, structure, isFolder: (await stat(checkpointDir)).isDirectory() },
    warnings,
  );
  const keys = accountKeys(resolved.structure, shapes);
  refuseUnusable(keys, (key) => checkpoint.tensors.get(key)!.dtype);
  if (resolved.structure.llm.tie_word_embeddings) await refuseUntiedHead(checkpoint);
  return { resolved, keys };
}

/**
 * With `tie_word_embeddings: true`, from_pretrained makes the head and the embedding one
 * parameter, and load_state_dict then copies both saved tensors into it, the head's last: a saved
 * head that differs would silently replace the embedding too. Refused; an equal one is ignored.
 */
async function refuseUntiedHead(checkpoint: UniPicCheckpoint): Promise<void> {
  const embed = checkpoint.tensors.get(EMBED_KEY);
  const head = checkpoint.tensors.get(HEAD_KEY);
  if (!embed || !head) return;
  if (
    head.storage.id === embed.storage.id &&
    head.storageOffset === embed.storageOffset &&
    head.shape.join() === embed.shape.join() &&
    head.stride.join() === embed.stride.join()
  )
    return;
  const weights = await CheckpointWeights.open(checkpoint, [EMBED_KEY, HEAD_KEY]);
  try {
    const a = weights.float32(EMBED_KEY);
    const b = weights.float32(HEAD_KEY);
    let equal = a.length === b.length;
    for (let i = 0; equal && i < a.length; i++) equal = a[i] === b[i];
    if (!equal) {
      throw new InvalidModelError(
        `${HEAD_KEY} differs from ${EMBED_KEY}, but the Qwen config.json says tie_word_embeddings: true; the official loader would overwrite the embedding with the head. Set tie_word_embeddings to false if the head is meant to be separate`,
        { details: { key: HEAD_KEY } },
      );
    }
  } finally {
    weights.close();
  }
}
const EMBED_KEY = 'llm.model.embed_tokens.weight';
const HEAD_KEY = 'llm.lm_head.weight';

/** Every graph of the plan in every requested dtype. */
async function buildGraphs(
  plans: readonly GraphPlan[],
  weights: CheckpointWeights,
  required: readonly string[],
  dtypes: readonly Dtype[],
  outDir: string,
  options: ConvertOptions,
): Promise<{ graphs: Manifest['graphs']; converted: ConvertedGraph[]; done: number }> {
  const total = plans.length * dtypes.length;
  const converted: ConvertedGraph[] = [];
  const graphs: Manifest['graphs'] = {};
  let done = 0;
  for (const plan of plans) {
    throwIfAborted(options.signal);
    options.onProgress?.({ stage: 'read', item: plan.name, done, total });
    graphs[plan.name] = await buildVariants(plan, weights.subset(required.filter(plan.keys)), dtypes, outDir, {
      signal: options.signal,
      onBuild: (dtype) => options.onProgress?.({ stage: 'build', item: `${plan.name} (${dtype})`, done, total }),
      onBuilt: (graph) => {
        if (graph) converted.push(graph);
        done++;
      },
    });
  }
  return { graphs, converted, done };
}

function checkOptions(dtypes: readonly string[], resolutions: readonly number[] | undefined): void {
  const issues: { path: string; message: string }[] = [];
  if (dtypes.length === 0) issues.push({ path: 'dtypes', message: 'at least one dtype is needed' });
  for (const dtype of dtypes) {
    if (!(DTYPES as readonly string[]).includes(dtype)) issues.push({ path: 'dtypes', message: `"${dtype}" is not one of ${DTYPES.join(', ')}` });
  }
  if (resolutions?.length === 0) issues.push({ path: 'resolutions', message: 'at least one resolution is needed' });
  for (const size of resolutions ?? []) {
    if (!Number.isSafeInteger(size) || size <= 0) issues.push({ path: 'resolutions', message: `${size} is not a positive whole number of pixels` });
  }
  if (issues.length) {
    throw new InvalidOptionsError(`invalid convert options: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, { details: { issues } });
  }
}

interface BuildHooks {
  readonly signal?: AbortSignal;
  readonly onBuild: (dtype: Dtype) => void;
  /** After each requested dtype; no graph when it reuses another dtype's file (an unquantizable graph). */
  readonly onBuilt: (graph: ConvertedGraph | undefined) => void;
}

/** Every requested dtype of one graph, each written as `<graph>.<dtype>.onnx` + external data. */
async function buildVariants(
  plan: GraphPlan,
  weights: WeightSource,
  dtypes: readonly Dtype[],
  outDir: string,
  hooks: BuildHooks,
): Promise<NonNullable<Manifest['graphs'][GraphName]>> {
  const variants: Partial<Record<Dtype, { file: string; externalData: string[] }>> = {};
  for (const dtype of dtypes) {
    throwIfAborted(hooks.signal);
    hooks.onBuild(dtype);
    const effective: Dtype = !plan.quantizable || (dtype === 'q8' && plan.q8 === false) ? 'fp32' : dtype;
    const file = `${plan.name}.${effective}.onnx`;
    const existing = Object.values(variants).find((v) => v?.file === file);
    if (existing) {
      variants[dtype] = existing;
      hooks.onBuilt(undefined);
      continue;
    }
    const started = Date.now();
    const sink = new FileWeightSink(outDir, file);
    try {
      const builder = new GraphBuilder(plan.name, sink);
      const serialiser = plan.build({ builder, weights, dtype: effective }) ?? builder;
      const bytes = serialiser.toBytes();
      await writeFile(join(outDir, file), bytes);
      variants[dtype] = { file, externalData: [...sink.files] };
      hooks.onBuilt({ graph: plan.name, dtype, bytes: bytes.length, ms: Date.now() - started });
    } finally {
      sink.close();
    }
  }
  return variants;
}
