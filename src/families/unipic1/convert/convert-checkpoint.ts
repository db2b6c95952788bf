import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { bundledTokenizerDir } from '../../../convert/bundled-assets.js';
import { throwIfAborted } from '../../../errors/abort-error.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import { DTYPES, type Dtype } from '../../../spec/manifest.js';
import { UNIPIC1_FAMILY_VERSION, unipic1ManifestSchema, type UniPic1GraphName as GraphName, type UniPic1Manifest as Manifest } from '../manifest.js';
import { graphPlans, type GraphPlan } from './graph-plan.js';
import type { GraphDtype, WeightSource } from '../../../convert/graphs/weights.js';
import { accountKeys, refuseUnusable, type KeyAccount } from './key-map.js';
import { fileEntry, writeManifest } from '../../../convert/model-folder-writer.js';
import { TABLE_KEYS, writeMarConstants, writeResolutionTables } from './mar-tables-writer.js';
import { GraphBuilder } from '../../../convert/onnx/graph-builder.js';
import { FileWeightSink } from '../../../convert/onnx/weight-sink.js';
import { UniPicCheckpoint } from './open-checkpoint.js';
import { resolveStructure } from './resolve-structure.js';
import { CheckpointWeights } from '../../../convert/sync-weights.js';
import { toModelConfig, type Structure } from './structure.js';
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

export interface ConvertOptions {
  /** Precisions to write (default fp32). Each adds a variant of every graph. */
  readonly dtypes?: readonly GraphDtype[];
  /** Output sizes to precompute position tables for (default: the structure's, 512 and 1024 for UniPic). */
  readonly resolutions?: readonly number[];
  /** Structural numbers; default: `unipic-config.json` in the checkpoint, else UniPic-1.5B's. */
  readonly structure?: Structure;
  readonly name?: string;
  /**
   * Also write `diffusion_sampler` / `diffusion_sampler_plain`: the 100-step sampler with the head
   * inside one ONNX Loop (one run per block of steps instead of one per step; for GPUs). They
   * repeat the head's weights, so they are opt-in.
   */
  readonly fusedSampler?: boolean;
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
  readonly warnings: readonly string[];
  readonly ms: number;
}

/**
 * Official UniPic checkpoint folder → model folder the SDK loads (docs/model-format.md). Graphs
 * are built op by op from the weights; each weight is read from the checkpoint when its builder
 * asks for it and its bytes stream to the output, so about one tensor is in memory at a time.
 * Every refusal (hostile or broken files, missing or misshapen weights) comes before the first
 * write; `unipic.json` is written last, so an interrupted run never looks like a model.
 */
export async function convertCheckpoint(checkpointDir: string, outDir: string, options: ConvertOptions = {}): Promise<ConvertSummary> {
  const started = Date.now();
  const warnings: string[] = [];
  const dtypes: GraphDtype[] = [...new Set<GraphDtype>(options.dtypes ?? ['fp32'])];
  checkOptions(dtypes, options.resolutions);
  const checkpoint = await UniPicCheckpoint.open(checkpointDir);
  try {
    const structure = options.structure ?? (await resolveStructure(checkpointDir, checkpoint.llmConfig, warnings));
    const config = toModelConfig(structure);
    const sizes = options.resolutions ?? structure.resolutions;
    const badSize = sizes.find((size) => size % config.mar.vaeStride !== 0);
    if (badSize !== undefined) {
      const message = `resolution ${badSize} is not a multiple of the VAE stride ${config.mar.vaeStride}`;
      throw options.resolutions ? new InvalidOptionsError(message, { details: { issues: [{ path: 'resolutions', message }] } }) : new InvalidModelError(message);
    }
    const keys = accountKeys(structure, new Map([...checkpoint.tensors].map(([name, tensor]) => [name, tensor.shape] as const)));
    refuseUnusable(keys, (key) => checkpoint.tensors.get(key)!.dtype);
    for (const key of keys.unknown) warnings.push(`unknown checkpoint key ${key} (not used)`);

    // Only required keys: an ignored `llm.lm_head.weight` stays invisible, so the head uses the tied table.
    const weights = await CheckpointWeights.open(checkpoint, keys.required);
    let built: Awaited<ReturnType<typeof buildGraphs>>;
    let resolutions: Manifest['resolutions'];
    let constants: string;
    try {
      await mkdir(outDir, { recursive: true });
      built = await buildGraphs(graphPlans(structure, config, { fusedSampler: options.fusedSampler }), weights, keys.required, dtypes, outDir, options);
      options.onProgress?.({ stage: 'tables', item: 'position tables', done: built.done, total: built.done });
      const tableWeights = weights.subset(TABLE_KEYS);
      resolutions = await writeResolutionTables(outDir, tableWeights, config.mar, sizes);
      constants = await writeMarConstants(outDir, tableWeights, config.mar);
    } finally {
      weights.close();
    }

    options.onProgress?.({ stage: 'tokenizer', item: 'tokenizer', done: built.done, total: built.done });
    const qwen = join(checkpointDir, 'Qwen2.5-1.5B-Instruct');
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
      source: `converted from ${checkpoint.sources.map((s) => relative(checkpointDir, s.path) || basename(s.path)).join(', ')}`,
      config,
      tokenizer,
      constants,
      resolutions,
      graphs: built.graphs,
      files,
      },
      unipic1ManifestSchema,
    );
    return { manifest, graphs: built.converted, keys, warnings, ms: Date.now() - started };
  } finally {
    await checkpoint.close();
  }
}

/** Every graph of the plan in every requested dtype. */
async function buildGraphs(
  plans: readonly GraphPlan[],
  weights: CheckpointWeights,
  required: readonly string[],
  dtypes: readonly GraphDtype[],
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
  readonly onBuild: (dtype: GraphDtype) => void;
  /** After each requested dtype; no graph when it reuses another dtype's file (an unquantizable graph). */
  readonly onBuilt: (graph: ConvertedGraph | undefined) => void;
}

/** Every requested dtype of one graph, each written as `<graph>.<dtype>.onnx` + external data. */
async function buildVariants(
  plan: GraphPlan,
  weights: WeightSource,
  dtypes: readonly GraphDtype[],
  outDir: string,
  hooks: BuildHooks,
): Promise<NonNullable<Manifest['graphs'][GraphName]>> {
  const variants: Partial<Record<Dtype, { file: string; externalData: string[] }>> = {};
  for (const dtype of dtypes) {
    throwIfAborted(hooks.signal);
    hooks.onBuild(dtype);
    const effective: GraphDtype = plan.quantizable ? dtype : 'fp32';
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
