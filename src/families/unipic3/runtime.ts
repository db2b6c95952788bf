/**
 * UniPic-3 as the runtime sees it (the ModelFamily registered in src/families/builtin.ts): `edit`
 * with 1–6 images. `generate` is not offered (the official pipelines only edit) and UniPic-3 has no
 * `understand`. Browser-safe: the converter half is converter.ts.
 */
import type { DiffusionResult, DiffusionRunEvent } from '../../core/diffusion/diffusion-events.js';
import type { FamilyAssets, FamilyTask, ModelFamily } from '../../core/family/model-family.js';
import { loadImage } from '../../core/image/load-image.js';
import type { TaskTypes } from '../../core/model/unipic-model.js';
import { randomSeed, SeededRandom } from '../../core/random/random-source.js';
import { TextTokenizer } from '../../core/text/tokenizer.js';
import type { Manifest } from '../../spec/manifest.js';
import { checkUnipic3Device } from './device-memory.js';
import { UNIPIC3_FAMILY, UNIPIC3_FAMILY_VERSION, unipic3ManifestSchema, type Unipic3Manifest } from './manifest.js';
import { editUnipic3 } from './pipeline/edit-unipic3.js';
import { type ParsedUnipic3EditOptions, type Unipic3EditOptions, unipic3EditOptionsSchema } from './pipeline/edit-options.js';
import type { Unipic3Config, Unipic3Graphs } from './pipeline/unipic3-graphs.js';

const asUnipic3 = (manifest: Manifest) => manifest as unknown as Unipic3Manifest;

/** The tokenizer of a loaded model, read on first use. */
export class Unipic3Assets implements FamilyAssets {
  private loaded: Promise<TextTokenizer> | undefined;
  constructor(
    private readonly manifest: Unipic3Manifest,
    private readonly read: (path: string) => Promise<Uint8Array>,
  ) {}

  tokenizer(): Promise<TextTokenizer> {
    const json = async (path: string): Promise<unknown> => JSON.parse(new TextDecoder().decode(await this.read(path)));
    this.loaded ??= (async () => TextTokenizer.fromJson(await json(this.manifest.tokenizer.json), await json(this.manifest.tokenizer.config)))();
    this.loaded.catch(() => (this.loaded = undefined));
    return this.loaded;
  }

  dispose(): void {
    this.loaded = undefined;
  }
}

const edit: FamilyTask<Unipic3Assets, ParsedUnipic3EditOptions, DiffusionRunEvent, DiffusionResult, Unipic3Config> = {
  graphs: ['vision', 'embed', 'llm', 'transformer_in', 'transformer_out', 'vae_encoder', 'vae_decoder'],
  manifestGraphs: (manifest) => asUnipic3(manifest).config.transformer.blockGraphs,
  options: unipic3EditOptionsSchema,
  async run(context, controller, options) {
    const inputs = options.images ?? (options.image === undefined ? [] : [options.image]);
    const images = [];
    for (const input of inputs) images.push(await loadImage(input, { signal: context.signal }));
    const tokenizer = await context.assets.tokenizer();
    const seed = options.seed ?? randomSeed();
    return editUnipic3({ graphs: context.graphs as unknown as Unipic3Graphs, config: context.config, encode: (text) => tokenizer.encode(text) }, controller, {
      images,
      prompt: options.prompt,
      width: options.width,
      height: options.height,
      steps: options.steps ?? context.config.steps,
      guidance: options.guidance,
      seed,
      random: options.random ?? new SeededRandom(seed),
      signal: context.signal,
    });
  },
};

const tokenizerFiles = (manifest: Unipic3Manifest) => [
  { path: manifest.tokenizer.json, field: 'tokenizer.json' },
  { path: manifest.tokenizer.config, field: 'tokenizer.config' },
];

export const unipic3Family: ModelFamily<Unipic3Assets> = {
  id: UNIPIC3_FAMILY,
  versions: [UNIPIC3_FAMILY_VERSION],
  manifestSchema: unipic3ManifestSchema as never,
  tasks: { edit },
  referencedFiles: (manifest) => tokenizerFiles(asUnipic3(manifest)),
  assetFiles: (manifest) => tokenizerFiles(asUnipic3(manifest)).map((file) => file.path),
  createAssets: (manifest, read) => new Unipic3Assets(asUnipic3(manifest), read),
  checkDevice: (manifest, dtypes, info) => checkUnipic3Device(asUnipic3(manifest), dtypes, info),
};

/** The option, event and result types of the family's tasks (for `UniPic.load(…) as UniPicModel<Unipic3Tasks>`). */
export interface Unipic3Tasks extends TaskTypes {
  generate: { options: never; event: never; result: never };
  edit: { options: Unipic3EditOptions; event: DiffusionRunEvent; result: DiffusionResult };
  understand: { options: never; event: never; result: never };
}
