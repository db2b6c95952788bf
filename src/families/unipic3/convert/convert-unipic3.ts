import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConvertResult } from '../../../convert/family/converter-family.js';
import { asSharedLlmWeights, openFolderWeights } from '../../../convert/graphs/qwen-vl/folder-weights.js';
import { buildVisionGraph, withFlatPatchEmbed } from '../../../convert/graphs/qwen-vl/vision-graph.js';
import { parseVlmConfig } from '../../../convert/graphs/qwen-vl/vlm-config.js';
import { accountVlmConfig } from '../../../convert/graphs/qwen-vl/vlm-config-rules.js';
import { planVlmKeys } from '../../../convert/graphs/qwen-vl/vlm-key-plan.js';
import { buildEmbedGraph } from '../../../convert/graphs/llm/embed-graph.js';
import { buildLlmGraph } from '../../../convert/graphs/llm/llm-graph.js';
import type { GraphContext, WeightSource } from '../../../convert/graphs/weights.js';
import { fileEntry, writeManifest } from '../../../convert/model-folder-writer.js';
import { GraphBuilder } from '../../../convert/onnx/graph-builder.js';
import { FileWeightSink } from '../../../convert/onnx/weight-sink.js';
import { writeTokenizerFiles } from '../../../convert/tokenizer/tokenizer-files.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import type { Dtype } from '../../../spec/manifest.js';
import { UNIPIC3_FAMILY, UNIPIC3_FAMILY_VERSION, type Unipic3Manifest, unipic3ManifestSchema } from '../manifest.js';
import type { Unipic3Sampler } from '../pipeline/unipic3-graphs.js';
import { QWEN_IMAGE_SCHEDULER, qwenSchedulerConfigFromJson } from '../sampling/scheduler-config.js';
import { convertUnipic3Graphs } from './convert-unipic3-graphs.js';
import { qwenTransformerKeySpecs } from './key-accounting.js';
import { qwenTransformerConfigFromJson } from './transformer/qwen-transformer-config.js';
import { qwenVaeConfigFromJson } from './vae/qwen-vae-config.js';

export interface ConvertUnipic3Options {
  /** Transformer and language-model precision (default q4); the vision tower and the VAE stay fp32. */
  readonly dtype?: Dtype;
  /** Qwen2.5-VL folder (Qwen-Image-Edit's `text_encoder/`); default `<checkpoint>/text_encoder`. */
  readonly textEncoder?: string;
  /** `transformer`, `ema_transformer` or `.` (the distilled repositories' root); default: the first present. */
  readonly transformerFolder?: string;
  /** Default: `teacher` for `transformer/` (Skywork/Unipic3), `distilled` otherwise (DMD / consistency repositories). */
  readonly sampler?: Unipic3Sampler;
  readonly blocksPerGraph?: number;
  readonly name?: string;
}

/** q8 (dynamic int8 products) is built for UniPic-1's MAR and head graphs only and has no parity test here. */
const UNIPIC3_DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q4', 'q4f16'];

/**
 * A UniPic-3 checkpoint (Qwen-Image-Edit layout) → a model folder: the text encoder (vision, embed,
 * llm — Qwen2.5-VL keys planned exactly, lm_head not converted: no UniPic-3 path decodes text), the
 * transformer in block groups and the 2-D VAE (convert-unipic3-graphs.ts), the tokenizer, and
 * `unipic.json` with the sampler the variant was trained for. Everything is streamed.
 */
export async function convertUnipic3(root: string, outDir: string, options: ConvertUnipic3Options = {}): Promise<ConvertResult> {
  const started = Date.now();
  const dtype = options.dtype ?? 'q4';
  if (!UNIPIC3_DTYPES.includes(dtype)) {
    const message = `"${dtype}" is not one of ${UNIPIC3_DTYPES.join(', ')}`;
    throw new InvalidOptionsError(`invalid convert options: dtype: ${message}`, { details: { issues: [{ path: 'dtype', message }] } });
  }
  const transformerFolder = options.transformerFolder ?? ['transformer', 'ema_transformer', '.'].find((f) => existsSync(join(root, f, 'config.json')));
  if (!transformerFolder) throw new InvalidModelError(`${root} has no transformer/, ema_transformer/ or root config.json of a QwenImageTransformer2DModel`);
  const sampler = options.sampler ?? (transformerFolder === 'transformer' ? 'teacher' : 'distilled');
  const textEncoder = options.textEncoder ?? join(root, 'text_encoder');
  if (!existsSync(join(textEncoder, 'config.json'))) {
    throw new InvalidModelError(
      `no Qwen2.5-VL text encoder at ${textEncoder}: Skywork/Unipic3 ships none — pass textEncoder (Qwen/Qwen-Image-Edit's text_encoder/ folder)`,
    );
  }
  await mkdir(outDir, { recursive: true });
  const warnings: string[] = [];
  const graphs: Unipic3Manifest['graphs'] = {};
  const timings: { graph: string; dtype: Dtype; file: string; ms: number }[] = [];
  const paths = new Set<string>();
  const record = (graph: string, graphDtype: Dtype, files: readonly string[], ms: number) => {
    graphs[graph] = { [graphDtype as Dtype]: { file: files[0], externalData: files.slice(1) } };
    for (const file of files) paths.add(file);
    timings.push({ graph, dtype: graphDtype as Dtype, file: files[0], ms });
  };

  // Text encoder.
  const vlmRaw = await readJson(join(textEncoder, 'config.json'));
  accountVlmConfig(vlmRaw);
  const vlm = parseVlmConfig(vlmRaw);
  const folder = await openFolderWeights(textEncoder);
  try {
    const plan = planVlmKeys(folder.names, vlm);
    const llmWeights = asSharedLlmWeights(folder.weights.subset(plan.llm));
    const build = async (graph: string, graphDtype: Dtype, weights: WeightSource, body: (ctx: GraphContext) => void) => {
      const t0 = Date.now();
      const file = `${graph}.${graphDtype}.onnx`;
      const sink = new FileWeightSink(outDir, file);
      try {
        const builder = new GraphBuilder(graph, sink);
        body({ builder, weights, dtype: graphDtype });
        await writeFile(join(outDir, file), builder.toBytes());
      } finally {
        sink.close();
      }
      record(graph, graphDtype, [file, ...sink.files], Date.now() - t0);
    };
    await build('vision', 'fp32', withFlatPatchEmbed(folder.weights.subset(plan.vision)), (ctx) => buildVisionGraph(ctx, vlm.vision));
    await build('embed', dtype, llmWeights, (ctx) => buildEmbedGraph(ctx, vlm));
    await build('llm', dtype, llmWeights, (ctx) => buildLlmGraph(ctx, vlm, { rotary: 'angles' }));
  } finally {
    await folder.close();
  }
  const tokenizerFolder = existsSync(join(root, 'tokenizer', 'vocab.json')) ? join(root, 'tokenizer') : textEncoder;
  const tokenizer = await writeTokenizerFiles(tokenizerFolder, outDir);
  paths.add(tokenizer.json);
  paths.add(tokenizer.config);

  // Transformer groups and VAE.
  const transformerConfig = qwenTransformerConfigFromJson(await readJson(join(root, transformerFolder, 'config.json')));
  if (transformerConfig.jointAttentionDim !== vlm.llm.hiddenSize)
    throw new InvalidModelError(`transformer joint_attention_dim ${transformerConfig.jointAttentionDim} ≠ text encoder hidden size ${vlm.llm.hiddenSize}`);
  const vaeConfig = qwenVaeConfigFromJson(await readJson(join(root, 'vae', 'config.json')));
  if (transformerConfig.inChannels !== 4 * vaeConfig.zDim)
    throw new InvalidModelError(`transformer in_channels ${transformerConfig.inChannels} ≠ 4 × VAE z_dim ${vaeConfig.zDim}`);
  const t0 = Date.now();
  const summary = await convertUnipic3Graphs(root, outDir, {
    dtype,
    transformerFolder,
    ...(options.blocksPerGraph ? { blocksPerGraph: options.blocksPerGraph } : {}),
  });
  // summary.files lists each graph file followed by its external-data files.
  const groups: string[][] = [];
  for (const file of summary.files) {
    if (file.endsWith('.onnx')) groups.push([file]);
    else groups[groups.length - 1].push(file);
  }
  const blockGraphs: string[] = [];
  for (const files of groups) {
    const [graph, graphDtype] = files[0].split('.') as [string, Dtype];
    if (graph.startsWith('transformer_blocks_')) blockGraphs.push(graph);
    record(graph, graphDtype, files, (Date.now() - t0) / groups.length);
  }
  for (const key of summary.dropped) warnings.push(`${key.key}: ${key.why}`);

  const schedulerPath = join(root, 'scheduler', 'scheduler_config.json');
  let scheduler = QWEN_IMAGE_SCHEDULER;
  if (existsSync(schedulerPath)) scheduler = qwenSchedulerConfigFromJson(await readJson(schedulerPath));
  else warnings.push("no scheduler/scheduler_config.json: using Qwen-Image-Edit's published scheduler settings");

  const parameters = qwenTransformerKeySpecs(transformerConfig).reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
  const files = await Promise.all([...paths].map((file) => fileEntry(outDir, file)));
  const manifest = await writeManifest<Unipic3Manifest>(
    outDir,
    {
      family: UNIPIC3_FAMILY,
      familyVersion: UNIPIC3_FAMILY_VERSION,
      name: options.name ?? 'unipic3',
      source: root,
      graphs,
      files,
      config: {
        textEncoder: {
          llm: vlm.llm,
          mropeSection: [...vlm.mropeSection],
          vision: { headDim: vlm.vision.headDim, patchSize: vlm.vision.patchSize, spatialMergeSize: vlm.vision.spatialMergeSize, windowSize: vlm.vision.windowSize },
          imageTokenId: vlm.imageTokenId,
          visionStartTokenId: vlm.visionStartTokenId,
        },
        transformer: {
          inChannels: transformerConfig.inChannels,
          jointAttentionDim: transformerConfig.jointAttentionDim,
          width: transformerConfig.heads * transformerConfig.headDim,
          axesDims: [...transformerConfig.axesDimsRope] as [number, number, number],
          numLayers: transformerConfig.numLayers,
          parameters,
          blockGraphs,
        },
        vae: { zDim: vaeConfig.zDim, scale: 2 ** (vaeConfig.dimMult.length - 1) },
        scheduler,
        sampler,
        steps: sampler === 'teacher' ? 50 : 8,
      },
      tokenizer,
    },
    unipic3ManifestSchema,
  );
  return {
    manifest,
    graphs: await Promise.all(timings.map(async (t) => ({ graph: t.graph, dtype: t.dtype, bytes: (await fileEntry(outDir, t.file)).size, ms: t.ms }))),
    warnings,
    keys: { ignored: summary.dropped },
    ms: Date.now() - started,
  };
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new InvalidModelError(`${path} is not valid JSON`, { cause });
  }
}

/** `certain` when model_index.json or the transformer config names the Qwen-Image classes. */
export async function detectUnipic3(path: string): Promise<'certain' | 'possible' | undefined> {
  for (const [file, key, pattern] of [
    ['model_index.json', '_class_name', /^QwenImageEdit/],
    ['transformer/config.json', '_class_name', /^QwenImageTransformer2DModel$/],
    ['ema_transformer/config.json', '_class_name', /^QwenImageTransformer2DModel$/],
    ['config.json', '_class_name', /^QwenImageTransformer2DModel$/],
  ] as const) {
    if (!existsSync(join(path, file))) continue;
    try {
      const value = (await readJson(join(path, file)))[key];
      if (typeof value === 'string' && pattern.test(value)) return 'certain';
    } catch {
      return undefined;
    }
  }
  return undefined;
}
