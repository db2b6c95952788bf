import type { Dtype } from '../../../spec/manifest.js';
import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import { encodeSafetensors } from '../../../formats/safetensors-encoder.js';
import { buildEmbedGraph } from '../../../convert/graphs/llm/embed-graph.js';
import { buildLlmGraph } from '../../../convert/graphs/llm/llm-graph.js';
import { buildLmHeadGraph } from '../../../convert/graphs/llm/lm-head-graph.js';
import type { GraphContext, WeightSource } from '../../../convert/graphs/weights.js';
import { GraphBuilder } from '../../../convert/onnx/graph-builder.js';
import { FileWeightSink } from '../../../convert/onnx/weight-sink.js';
import { writeTokenizerFiles } from '../../../convert/tokenizer/tokenizer-files.js';
import type { MqGraphName, MqRuntimeConfig } from '../runtime/mq-graphs.js';
import { parseConditionerConfig } from './conditioner-config.js';
import { accountPreprocessorConfig, accountVlmConfig } from '../../../convert/graphs/qwen-vl/vlm-config-rules.js';
import { accountConditionerConfig, accountGenerationConfig } from './config-rules.js';
import { mergeAccounts, type ConfigAccount } from '../../../convert/config-account.js';
import { buildConditionerGraph } from './graphs/conditioner-graph.js';
import { buildVisionGraph, withFlatPatchEmbed } from '../../../convert/graphs/qwen-vl/vision-graph.js';
import { planMetaqueryKeys } from './key-plan.js';
import type { KeyAccount } from '../../../convert/expected-shapes.js';
import { sd3DiffusionConfig, sd3DiffusionGraphPlans, type Sd3DiffusionGraphName } from '../../../convert/sd3-diffusion/diffusion-graphs.js';
import { detectPositionTableRounding } from '../../../convert/sd3-diffusion/position-table-check.js';
import type { Sd3DiffusionConfig } from '../../../core/diffusion/sd3-diffusion-config.js';
import { openDiffusionPart } from './diffusion-part.js';
import { asSharedLlmWeights, openFolderWeights } from '../../../convert/graphs/qwen-vl/folder-weights.js';
import { parseVlmConfig } from '../../../convert/graphs/qwen-vl/vlm-config.js';

export const VLM_FOLDER = 'Qwen2.5-VL-7B-Instruct';
export const METAQUERY_CONFIG_FILE = 'metaquery.json';
const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q4', 'q4f16'];
/**
 * The language model's 4-bit products with int8 activations on the CPU (MatMulNBits accuracy level
 * 4, as UniPic-1's converter): the 7B decodes 1.66× faster than at level 0 with the same greedy
 * tokens (docs/performance.md, "UniPic2-Metaquery at full size"). Ignored by fp32/fp16 graphs.
 */
const LLM_Q4 = { accuracyLevel: 4 } as const;

export interface ConvertMetaqueryOptions {
  /** The Qwen2.5-VL-7B-Instruct folder; default `<skyworkFolder>/Qwen2.5-VL-7B-Instruct`. */
  readonly vlm?: string;
  /** Precision of the language-model graphs (embed, llm, lm_head); default q4 (the 7 B-parameter LLM dominates the download). */
  readonly llmDtype?: Dtype;
  /** Precision of the vision tower, the conditioner and the Kontext transformer; default fp32 (the VAE is always fp32). */
  readonly dtype?: Dtype;
  readonly onGraph?: (event: { graph: MqConvertedGraph; file: string; ms: number }) => void;
}

export type MqConvertedGraph = MqGraphName | Sd3DiffusionGraphName;
type ConvertedGraph = { file: string; dtype: Dtype; externalData: string[] };

export interface MetaqueryConversion {
  /** The runtime numbers; with `transformer`/`vae`/`scheduler` when the diffusion part was converted. */
  readonly config: MqRuntimeConfig & Partial<Sd3DiffusionConfig>;
  readonly graphs: Record<MqGraphName, ConvertedGraph> & Partial<Record<Sd3DiffusionGraphName, ConvertedGraph>>;
  /** The diffusion keys: required ones and those knowingly ignored (the VLM and conditioner use every key). */
  readonly diffusionKeys?: KeyAccount;
  readonly warnings: readonly string[];
  /** What was done with every field of every config file read. */
  readonly configAccount: ConfigAccount;
  /** End-of-text ids for understanding (generation_config.json, else Qwen2.5-VL's). */
  readonly eosIds: readonly number[];
  /** The strip VAE decoder's plan, when `vae_decoder_strips` was built. */
  readonly stripDecoder?: StripDecoderPlan;
  /** The strip VAE encoder's plan, when `vae_encoder_strips` was built. */
  readonly stripEncoder?: StripEncoderPlan;
}

/**
 * UniPic2-Metaquery: the Skywork folder's `conditioner/` and the Qwen2.5-VL folder →
 * `vision`, `embed`, `llm`, `lm_head`, `conditioner` graphs, `meta_queries.safetensors`, the
 * tokenizer and `metaquery.json` (the runtime numbers, processor and generation defaults); its
 * `transformer/`, `vae/`, `scheduler/` → the shared SD3.5M-Kontext `transformer`, `vae_encoder`,
 * `vae_decoder` graphs and the sampler's config (without them: understand only, with a warning).
 * Tensors are read one at a time and every initializer streams to its data file as it is built, so
 * the 7B converts with about one float32 tensor (≤ 2.2 GB, the embedding) in memory at a time.
 */
export async function convertMetaquery(skyworkFolder: string, outDir: string, options: ConvertMetaqueryOptions = {}): Promise<MetaqueryConversion> {
  const llmDtype = options.llmDtype ?? 'q4';
  const dtype = options.dtype ?? 'fp32';
  for (const d of [llmDtype, dtype]) if (!DTYPES.includes(d)) throw new InvalidOptionsError(`"${d}" is not one of ${DTYPES.join(', ')}`);
  const vlmFolder = options.vlm ?? join(skyworkFolder, VLM_FOLDER);
  const condFolder = join(skyworkFolder, 'conditioner');
  for (const [what, folder] of [
    ['Qwen2.5-VL (--vlm)', vlmFolder],
    ['conditioner', condFolder],
  ]) {
    if (!existsSync(join(folder, 'config.json'))) throw new InvalidModelError(`the ${what} folder ${folder} has no config.json`);
  }
  const vlmRaw = await readJson(join(vlmFolder, 'config.json'));
  const condRaw = await readJson(join(condFolder, 'config.json'));
  const accounts = [accountVlmConfig(vlmRaw), accountConditionerConfig(condRaw)];
  const vlm = parseVlmConfig(vlmRaw);
  const conditioner = parseConditionerConfig(condRaw);
  if (conditioner.llmHiddenSize !== vlm.llm.hiddenSize)
    throw new InvalidModelError(`conditioner llm_hidden_size ${conditioner.llmHiddenSize} ≠ Qwen2.5-VL hidden size ${vlm.llm.hiddenSize}`);
  if (vlm.vision.outHiddenSize !== vlm.llm.hiddenSize) throw new InvalidModelError('vision out_hidden_size must equal the language model hidden size');
  const processor = await readProcessor(vlmFolder, accounts);
  const generation = existsSync(join(vlmFolder, 'generation_config.json')) ? await readJson(join(vlmFolder, 'generation_config.json')) : {};
  accounts.push(accountGenerationConfig(generation));
  const configAccount = mergeAccounts(...accounts);
  const eosIds = eosList(generation.eos_token_id);

  // Every check on the diffusion part (configs, widths, keys, shapes, dtypes) runs before anything is written.
  const warnings: string[] = [];
  const diffusion = await openDiffusionPart(skyworkFolder, conditioner);
  if (!diffusion) warnings.push('no transformer/, vae/, scheduler/: converted for understand only (generate and edit need them)');
  let vlmWeights: Awaited<ReturnType<typeof openFolderWeights>> | undefined;
  let condWeights: Awaited<ReturnType<typeof openFolderWeights>> | undefined;
  try {
    const rounding = diffusion && detectPositionTableRounding(diffusion.weights, diffusion.structure.transformer, warnings);
    await mkdir(outDir, { recursive: true });
    vlmWeights = await openFolderWeights(vlmFolder);
    condWeights = await openFolderWeights(condFolder, 'diffusion_pytorch_model.safetensors');
    const plan = planMetaqueryKeys(vlmWeights.names, condWeights.names, vlm, conditioner);
    const llmWeights = asSharedLlmWeights(vlmWeights.weights.subset([...plan.llm, ...plan.lmHead]));
    const build = async (graph: MqConvertedGraph, graphDtype: Dtype, weights: WeightSource, body: (ctx: GraphContext) => void) => {
      const started = Date.now();
      const file = `${graph}.${graphDtype}.onnx`;
      const sink = new FileWeightSink(outDir, file);
      try {
        const builder = new GraphBuilder(graph, sink);
        body({ builder, weights, dtype: graphDtype });
        await writeFile(join(outDir, file), builder.toBytes());
      } finally {
        sink.close();
      }
      options.onGraph?.({ graph, file, ms: Date.now() - started });
      return { file, dtype: graphDtype, externalData: [...sink.files] };
    };
    const graphs: MetaqueryConversion['graphs'] = {
      vision: await build('vision', dtype, withFlatPatchEmbed(vlmWeights.weights.subset(plan.vision)), (ctx) => buildVisionGraph(ctx, vlm.vision)),
      embed: await build('embed', llmDtype, llmWeights, (ctx) => buildEmbedGraph(ctx, vlm)),
      llm: await build('llm', llmDtype, llmWeights, (ctx) => buildLlmGraph(ctx, vlm, { rotary: 'angles', linear: LLM_Q4 })),
      // The 7B's head is its own lm_head.weight (tie_word_embeddings false); tied checkpoints reuse the embedding.
      lm_head: await build('lm_head', llmDtype, llmWeights, (ctx) => buildLmHeadGraph(ctx, vlm, { ...LLM_Q4, tied: vlm.tieWordEmbeddings })),
      conditioner: await build('conditioner', dtype, condWeights.weights.subset(plan.conditioner), (ctx) => buildConditionerGraph(ctx, conditioner)),
    };
    let stripDecoder: StripDecoderPlan | undefined;
    let stripEncoder: StripEncoderPlan | undefined;
    if (diffusion) {
      const plans = sd3DiffusionGraphPlans(
        diffusion.structure,
        (plan) => {
          stripDecoder = plan;
        },
        (plan) => {
          stripEncoder = plan;
        },
      );
      for (const part of plans) {
        const weights = diffusion.weights.subset(diffusion.keys.required.filter((k) => k.startsWith(part.prefix)));
        graphs[part.name] = await build(part.name, part.quantizable ? dtype : 'fp32', weights, (ctx) => part.build(ctx));
      }
    }
    const queries = condWeights.weights.float32(plan.metaQueries);
    const shape = [conditioner.numQueries, conditioner.llmHiddenSize];
    if (queries.length !== shape[0] * shape[1]) throw new InvalidModelError(`meta_queries holds ${queries.length} values, expected ${shape.join('×')}`);
    await writeFile(
      join(outDir, 'meta_queries.safetensors'),
      encodeSafetensors([{ name: 'meta_queries', dtype: 'float32', shape, data: new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength) }]),
    );
    const tokenizer = await writeTokenizerFiles(vlmFolder, outDir);

    const config: MetaqueryConversion['config'] = {
      llm: vlm.llm,
      mropeSection: vlm.mropeSection,
      vision: vlm.vision,
      imageTokenId: vlm.imageTokenId,
      numQueries: conditioner.numQueries,
      ...(diffusion && rounding ? sd3DiffusionConfig(diffusion.structure, rounding) : {}),
    };
    const description = {
      family: 'unipic2-metaquery',
      config,
      conditioner,
      processor,
      generation,
      eosIds,
      graphs,
      tables: { metaQueries: 'meta_queries.safetensors' },
      tokenizer,
      configAccount,
      ...(diffusion ? { ignoredKeys: diffusion.keys.ignored } : {}),
    };
    await writeFile(join(outDir, METAQUERY_CONFIG_FILE), `${JSON.stringify(description, null, 2)}\n`);
    return {
      config,
      graphs,
      warnings,
      configAccount,
      eosIds,
      ...(diffusion ? { diffusionKeys: diffusion.keys } : {}),
      ...(stripDecoder ? { stripDecoder } : {}),
      ...(stripEncoder ? { stripEncoder } : {}),
    };
  } finally {
    await vlmWeights?.close();
    await condWeights?.close();
    await diffusion?.close();
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new InvalidModelError(`${path} is not valid JSON`, { cause });
  }
}

/**
 * preprocessor_config.json: the pixel budget (`min_pixels`/`max_pixels`, or newer `size`
 * {shortest_edge, longest_edge}) is used; every other field must be what unipic's processor does
 * (config-rules.ts). Absent: the Qwen2-VL defaults.
 */
async function readProcessor(folder: string, accounts: ConfigAccount[]): Promise<{ minPixels: number; maxPixels: number }> {
  const path = join(folder, 'preprocessor_config.json');
  if (!existsSync(path)) return { minPixels: 3136, maxPixels: 12845056 };
  const raw = await readJson(path);
  accounts.push(accountPreprocessorConfig(raw));
  const size = (raw.size ?? {}) as { shortest_edge?: unknown; longest_edge?: unknown };
  const pick = (value: unknown, fallback: unknown, otherwise: number): number =>
    typeof value === 'number' ? value : typeof fallback === 'number' ? fallback : otherwise;
  const minPixels = pick(raw.min_pixels, size.shortest_edge, 3136);
  const maxPixels = pick(raw.max_pixels, size.longest_edge, 12845056);
  if (!(minPixels > 0 && minPixels <= maxPixels))
    throw new InvalidModelError(`preprocessor_config.json: min_pixels ${minPixels} / max_pixels ${maxPixels} are not a valid budget`);
  return { minPixels, maxPixels };
}

function eosList(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
  if (value === undefined) return [151645, 151643];
  throw new InvalidModelError(`generation_config.json eos_token_id ${JSON.stringify(value)} is not an id or a list of ids`);
}

/**
 * Whether `path` is a Skywork Metaquery folder (for converter detection): `certain` when its
 * `conditioner/config.json` names StableDiffusion3Conditioner, `possible` when a conditioner folder
 * with a config exists, otherwise not this family's.
 */
export async function detectMetaquery(path: string): Promise<'certain' | 'possible' | undefined> {
  const config = join(path, 'conditioner', 'config.json');
  if (!existsSync(config)) return undefined;
  try {
    const raw = JSON.parse(await readFile(config, 'utf8')) as { _class_name?: unknown };
    return raw._class_name === 'StableDiffusion3Conditioner' ? 'certain' : 'possible';
  } catch {
    return 'possible';
  }
}
