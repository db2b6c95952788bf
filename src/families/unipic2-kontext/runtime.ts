import type { CallContext } from '../../core/model/model-context.js';
import type { StripDecoderPlan } from '../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../spec/strip-encoder.js';
/**
 * UniPic2-SD3.5M-Kontext as the runtime sees it (browser-safe; the converter half is converter.ts):
 * `generate` and `edit` with their graphs, option schemas and pipelines, the manifest schema and the
 * per-model tokenizers. `understand` is not offered.
 */
import type { FamilyAssets, FamilyTask, ModelFamily } from '../../core/family/model-family.js';
import type { TaskTypes } from '../../core/model/unipic-model.js';
import type { Capability, Manifest } from '../../spec/manifest.js';
import type { KontextConfig } from './kontext-config.js';
import { KONTEXT_FAMILY } from './kontext-config.js';
import { kontextManifestSchema, type KontextManifest } from './kontext-manifest.js';
import type { KontextTokenizers } from './pipeline/encode-prompts.js';
import type { KontextResult, KontextRunEvent } from './pipeline/kontext-events.js';
import type { KontextGraphRunner } from './pipeline/kontext-graph-runner.js';
import {
  kontextEditOptionsSchema,
  kontextGenerateOptionsSchema,
  type KontextEditOptions,
  type KontextGenerateOptions,
  type ParsedKontextEditOptions,
  type ParsedKontextGenerateOptions,
} from './pipeline/kontext-options.js';
import { editKontext, generateKontext } from './pipeline/run-kontext.js';
import { ClipPromptTokenizer, T5PromptTokenizer } from './text/kontext-tokenizers.js';

/** The tokenizers of a loaded model, read on first use. */
export class KontextAssets implements FamilyAssets {
  private loaded: Promise<KontextTokenizers> | undefined;
  constructor(
    readonly manifest: KontextManifest,
    private readonly read: (path: string) => Promise<Uint8Array>,
  ) {}

  tokenizers(): Promise<KontextTokenizers> {
    this.loaded ??= (async () => {
      const json = async (path: string): Promise<unknown> => JSON.parse(new TextDecoder().decode(await this.read(path)));
      const { text } = this.manifest.config;
      const t = this.manifest.tokenizers;
      return {
        clipL: new ClipPromptTokenizer(await json(t.clipL.file), t.clipL, text.clipLength),
        clipG: new ClipPromptTokenizer(await json(t.clipG.file), t.clipG, text.clipLength),
        ...(t.t5 ? { t5: new T5PromptTokenizer(await json(t.t5.file), t.t5, text.t5Length) } : {}),
      };
    })();
    this.loaded.catch(() => (this.loaded = undefined));
    return this.loaded;
  }

  dispose(): void {
    this.loaded = undefined;
  }
}

const TEXT_GRAPHS = ['clip_l', 'clip_g'] as const;

/** The manifest's strip decoder plan when its graph was loaded for this call. */
function stripDecoder(context: { graphs: { has(name: string): boolean }; assets: KontextAssets }): StripDecoderPlan | undefined {
  return context.graphs.has('vae_decoder_strips') ? context.assets.manifest.stripDecoder : undefined;
}

/** The manifest's strip encoder plan when its graph was loaded for this call. */
function stripEncoder(context: { graphs: { has(name: string): boolean }; assets: KontextAssets }): StripEncoderPlan | undefined {
  return context.graphs.has('vae_encoder_strips') ? context.assets.manifest.stripEncoder : undefined;
}

/** What both tasks hand the pipeline: the graphs, numbers, tokenizers and strip plan of this load. */
async function pipelineContext(context: CallContext<KontextAssets, KontextConfig>) {
  return {
    graphs: context.graphs as unknown as KontextGraphRunner,
    config: context.config,
    tokenizers: await context.assets.tokenizers(),
    stripDecoder: stripDecoder(context),
    stripEncoder: stripEncoder(context),
    doneWith: context.doneWith,
  };
}

const generate: FamilyTask<KontextAssets, ParsedKontextGenerateOptions, KontextRunEvent, KontextResult, KontextConfig> = {
  graphs: [...TEXT_GRAPHS, 'transformer', 'vae_decoder'],
  optionalGraphs: ['t5_encoder', 'vae_decoder_strips'],
  options: kontextGenerateOptionsSchema,
  run: async (context, controller, options) => generateKontext(await pipelineContext(context), controller, options),
};

const edit: FamilyTask<KontextAssets, ParsedKontextEditOptions, KontextRunEvent, KontextResult, KontextConfig> = {
  graphs: [...TEXT_GRAPHS, 'transformer', 'vae_encoder', 'vae_decoder'],
  optionalGraphs: ['t5_encoder', 'vae_decoder_strips', 'vae_encoder_strips'],
  options: kontextEditOptionsSchema,
  run: async (context, controller, options) => editKontext(await pipelineContext(context), controller, options),
};

const asKontext = (manifest: Manifest) => manifest as unknown as KontextManifest;

function tokenizerFiles(manifest: KontextManifest): { path: string; field: string }[] {
  const t = manifest.tokenizers;
  return [
    { path: t.clipL.file, field: 'tokenizers.clipL.file' },
    { path: t.clipG.file, field: 'tokenizers.clipG.file' },
    ...(t.t5 ? [{ path: t.t5.file, field: 'tokenizers.t5.file' }] : []),
  ];
}

export const kontextFamily: ModelFamily<KontextAssets> = {
  id: KONTEXT_FAMILY,
  versions: [1],
  manifestSchema: kontextManifestSchema as never,
  tasks: { generate, edit },
  referencedFiles: (manifest) => tokenizerFiles(asKontext(manifest)),
  assetFiles: (manifest, _tasks: readonly Capability[]) => tokenizerFiles(asKontext(manifest)).map((file) => file.path),
  createAssets: (manifest, read) => new KontextAssets(asKontext(manifest), read),
};

/** The option, event and result types of the family's tasks (`UniPic.load(dir, { family: 'unipic2-kontext' })` types the model with them). */
export interface KontextTasks extends TaskTypes {
  generate: { options: KontextGenerateOptions; event: KontextRunEvent; result: KontextResult };
  edit: { options: KontextEditOptions; event: KontextRunEvent; result: KontextResult };
  understand: { options: never; event: never; result: never };
}
