/**
 * UniPic2-Metaquery as the runtime sees it (the ModelFamily registered in src/families/builtin.ts):
 * `understand`, and `generate` / `edit` (the VLM + conditioner's text stream into the shared
 * SD3.5M-Kontext sampler) when the folder has the transformer and VAE graphs.
 * Browser-safe: nothing here imports the converter (converter.ts is the Node-only half).
 */
import { z } from 'zod';
import type { FamilyAssets, FamilyTask, ModelFamily } from '../../core/family/model-family.js';
import type { CallContext } from '../../core/model/model-context.js';
import { randomSchema, seedSchema, signalSchema } from '../../core/options/common.js';
import { imageInputSchema } from '../../core/options/image-input.js';
import { DEFAULT_QUESTION } from '../../core/text/prompts.js';
import { TextTokenizer } from '../../core/text/tokenizer.js';
import type { TextRunEvent, UnderstandResult } from '../../core/understanding/events.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { decodeSafetensors } from '../../formats/safetensors.js';
import type { Manifest } from '../../spec/manifest.js';
import { METAQUERY_FAMILY, METAQUERY_FAMILY_VERSION, metaqueryManifestSchema, type MetaqueryManifest } from './manifest.js';
import type { DiffusionResult, DiffusionRunEvent } from '../../core/diffusion/diffusion-events.js';
import type { TaskTypes } from '../../core/model/unipic-model.js';
import type { MqGraphs } from './runtime/mq-graphs.js';
import { editMetaquery, generateMetaquery, type MetaqueryDiffusionContext } from './runtime/run-diffusion.js';
import {
  metaqueryEditOptionsSchema,
  metaqueryGenerateOptionsSchema,
  type MetaqueryEditOptions,
  type MetaqueryGenerateOptions,
  type ParsedMetaqueryEditOptions,
  type ParsedMetaqueryGenerateOptions,
} from './runtime/sample-options.js';
import { ImagePrefixCache, understandMetaquery } from './runtime/understand.js';

const asMetaquery = (manifest: Manifest) => manifest as MetaqueryManifest;

/** Per-model files: the tokenizer and the meta-queries (read once), and the image-prefix KV cache. */
export class MetaqueryAssets implements FamilyAssets {
  readonly cache = new ImagePrefixCache();
  private tokenizerPromise: Promise<TextTokenizer> | undefined;
  private queriesPromise: Promise<Float32Array> | undefined;

  constructor(
    readonly manifest: MetaqueryManifest,
    private readonly read: (path: string) => Promise<Uint8Array>,
  ) {}

  tokenizer(): Promise<TextTokenizer> {
    const text = async (path: string) => JSON.parse(new TextDecoder().decode(await this.read(path))) as unknown;
    this.tokenizerPromise ??= (async () => TextTokenizer.fromJson(await text(this.manifest.tokenizer.json), await text(this.manifest.tokenizer.config)))();
    return this.tokenizerPromise;
  }

  metaQueries(): Promise<Float32Array> {
    this.queriesPromise ??= (async () => {
      const file = this.manifest.tables.metaQueries;
      const table = decodeSafetensors(await this.read(file), file).tensors.get('meta_queries');
      const { numQueries, llm } = this.manifest.config;
      if (table?.dtype !== 'float32' || table.bytes.length !== numQueries * llm.hiddenSize * 4) {
        throw new InvalidModelError(`${file} must hold meta_queries float32 [${numQueries}, ${llm.hiddenSize}]`);
      }
      return new Float32Array(table.bytes.slice().buffer);
    })();
    return this.queriesPromise;
  }

  dispose(): void {
    this.cache.dispose();
  }
}

/**
 * UniPic-1's understand options, with the sampling values optional: a call's value wins, else the
 * model's (`sampling`, from its generation_config.json); `minPixels`/`maxPixels` replace `size`.
 */
export const metaqueryUnderstandOptionsSchema = z
  .object({
    image: imageInputSchema,
    prompt: z.string().min(1).default(DEFAULT_QUESTION),
    maxTokens: z.number().int().min(1).max(32768).default(1024),
    doSample: z.boolean().optional(),
    temperature: z.number().positive().max(100).optional(),
    topK: z.number().int().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    repetitionPenalty: z.number().positive().max(100).optional(),
    stop: z.array(z.string().min(1)).default([]),
    minPixels: z.number().int().positive().optional(),
    maxPixels: z.number().int().positive().optional(),
    seed: seedSchema.optional(),
    signal: signalSchema.optional(),
    random: randomSchema.optional(),
  })
  .strict();
type ParsedOptions = z.output<typeof metaqueryUnderstandOptionsSchema>;

const understand: FamilyTask<MetaqueryAssets, ParsedOptions, TextRunEvent, UnderstandResult, MetaqueryManifest['config']> = {
  graphs: ['vision', 'embed', 'llm', 'lm_head'],
  options: metaqueryUnderstandOptionsSchema,
  async run(context, controller, options) {
    const { assets } = context;
    const { sampling, processor } = assets.manifest;
    return understandMetaquery(
      {
        graphs: context.graphs as unknown as MqGraphs,
        config: context.config,
        tokenizer: await assets.tokenizer(),
        eosIds: sampling.eosIds,
        cache: assets.cache,
        emit: (event) => controller.emit(event),
      },
      {
        ...options,
        doSample: options.doSample ?? sampling.doSample,
        temperature: options.temperature ?? sampling.temperature,
        topK: options.topK ?? sampling.topK,
        topP: options.topP ?? sampling.topP,
        repetitionPenalty: options.repetitionPenalty ?? sampling.repetitionPenalty,
        minPixels: options.minPixels ?? processor.minPixels,
        maxPixels: options.maxPixels ?? processor.maxPixels,
        signal: context.signal,
      },
    );
  },
};

type MqConfig = MetaqueryManifest['config'];

async function diffusionContext(context: CallContext<MetaqueryAssets, MqConfig>): Promise<MetaqueryDiffusionContext> {
  const { assets } = context;
  return {
    graphs: context.graphs as unknown as MetaqueryDiffusionContext['graphs'],
    config: context.config,
    tokenizer: await assets.tokenizer(),
    metaQueries: await assets.metaQueries(),
    ...(context.graphs.has('vae_decoder_strips') && assets.manifest.stripDecoder ? { stripDecoder: assets.manifest.stripDecoder } : {}),
    ...(context.graphs.has('vae_encoder_strips') && assets.manifest.stripEncoder ? { stripEncoder: assets.manifest.stripEncoder } : {}),
    doneWith: async (graphs) => {
      // The image-prefix KV cache belongs to the llm session's outputs: freed with it.
      if (context.lowMemory && graphs.includes('llm')) assets.cache.dispose();
      await context.doneWith(graphs as never);
    },
  };
}

const TEXT_SIDE = ['embed', 'llm', 'conditioner'] as const;

const generate: FamilyTask<MetaqueryAssets, ParsedMetaqueryGenerateOptions, DiffusionRunEvent, DiffusionResult, MqConfig> = {
  graphs: [...TEXT_SIDE, 'transformer', 'vae_decoder'],
  optionalGraphs: ['vae_decoder_strips'],
  options: metaqueryGenerateOptionsSchema,
  run: async (context, controller, options) => generateMetaquery(await diffusionContext(context), controller, options),
};

const edit: FamilyTask<MetaqueryAssets, ParsedMetaqueryEditOptions, DiffusionRunEvent, DiffusionResult, MqConfig> = {
  graphs: ['vision', ...TEXT_SIDE, 'transformer', 'vae_encoder', 'vae_decoder'],
  optionalGraphs: ['vae_decoder_strips', 'vae_encoder_strips'],
  options: metaqueryEditOptionsSchema,
  run: async (context, controller, options) => editMetaquery(await diffusionContext(context), controller, options),
};

export const metaqueryFamily: ModelFamily<MetaqueryAssets> = {
  id: METAQUERY_FAMILY,
  versions: [METAQUERY_FAMILY_VERSION],
  manifestSchema: metaqueryManifestSchema as never,
  tasks: { understand, generate, edit },
  referencedFiles(manifest) {
    const { tokenizer, tables } = asMetaquery(manifest);
    return [
      { path: tokenizer.json, field: 'tokenizer.json' },
      { path: tokenizer.config, field: 'tokenizer.config' },
      { path: tables.metaQueries, field: 'tables.metaQueries' },
    ];
  },
  assetFiles(manifest) {
    const { tokenizer, tables } = asMetaquery(manifest);
    return [tokenizer.json, tokenizer.config, tables.metaQueries];
  },
  createAssets: (manifest, read) => new MetaqueryAssets(asMetaquery(manifest), read),
};

/** The option, event and result types of the family's tasks (for `UniPic.load(…) as UniPicModel<MetaqueryTasks>`). */
export interface MetaqueryTasks extends TaskTypes {
  generate: { options: MetaqueryGenerateOptions; event: DiffusionRunEvent; result: DiffusionResult };
  edit: { options: MetaqueryEditOptions; event: DiffusionRunEvent; result: DiffusionResult };
  understand: { options: z.input<typeof metaqueryUnderstandOptionsSchema>; event: TextRunEvent; result: UnderstandResult };
}
