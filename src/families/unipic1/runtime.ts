/**
 * UniPic-1 (Qwen2.5 + MAR + diffusion head + KL-16 VAE) as the runtime sees it: which tasks it
 * offers with which graphs, its option schemas, its pipelines and its per-model files. Browser-safe:
 * nothing here imports the converter (src/families/unipic1/converter.ts is the Node-only half).
 */
import type { CallMemory, FamilyTask, ModelFamily } from '../../core/family/model-family.js';
import type { TaskTypes } from '../../core/model/unipic-model.js';
import type { ImageRunEvent } from '../../core/generation/events.js';
import type { Capability, Manifest } from '../../spec/manifest.js';
import type { TextRunEvent, UnderstandResult } from '../../core/understanding/events.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { editImage } from './generation/edit.js';
import { generateImages } from './generation/generate.js';
import type { ImageResult } from './generation/image-result.js';
import { CAPABILITY_GRAPHS, OPTIONAL_CAPABILITY_GRAPHS, UNIPIC1_FAMILY_VERSION, unipic1ManifestSchema, type ModelConfig, type UniPic1Manifest } from './manifest.js';
import type { UniPic1Graphs } from './graphs.js';
import { checkActivationLimits, checkOneShotVae } from './model/activation-limits.js';
import { ModelAssets } from './model/model-assets.js';
import { warmUp } from './model/warm-up.js';
import { editOptionsSchema, type EditOptions, type ParsedEditOptions } from './options/edit-options.js';
import { generateOptionsSchema, type GenerateOptions, type ParsedGenerateOptions } from './options/generate-options.js';
import { understandOptionsSchema, type ParsedUnderstandOptions, type UnderstandOptions } from './options/understand-options.js';
import { understandImage } from './understanding/understand.js';

/** The size the model serves, then the activations that size builds on this device. */
const checkCall =
  (task: Capability) => (options: { size?: number; guidance?: number; numImages?: number; image?: unknown }, assets: ModelAssets, memory: CallMemory) => {
    if (options.size !== undefined) assets.checkSize(options.size);
    const size = options.size ?? assets.defaultSize;
    checkActivationLimits(assets.manifest.config, task, { ...options, size }, memory, assets.sizes);
    const { stripEncoder, stripDecoder } = assets.manifest;
    const uses = { encoder: task !== 'generate' || options.image !== undefined, decoder: task !== 'understand' };
    checkOneShotVae({ encoder: stripEncoder !== undefined, decoder: stripDecoder !== undefined }, uses, size, memory, assets.sizes);
  };

/** A UniPic-1 task: its graphs by capability, its option schema, the size check, its pipeline. */
function task<Parsed extends { size?: number; guidance?: number; numImages?: number }, Event extends { type: string }, Result>(
  capability: Capability,
  options: FamilyTask<ModelAssets, Parsed>['options'],
  pipeline: (context: never, controller: Parameters<FamilyTask<ModelAssets, Parsed, Event>['run']>[1], options: Parsed) => Promise<Result>,
): FamilyTask<ModelAssets, Parsed, Event, Result, ModelConfig, UniPic1Graphs> {
  return {
    graphs: CAPABILITY_GRAPHS[capability],
    optionalGraphs: OPTIONAL_CAPABILITY_GRAPHS[capability],
    options,
    check: checkCall(capability),
    run: (context, controller, parsed) => pipeline(context as never, controller, parsed),
  };
}

const generate = task<ParsedGenerateOptions, ImageRunEvent, ImageResult>('generate', generateOptionsSchema, generateImages);
const edit = task<ParsedEditOptions, ImageRunEvent, ImageResult>('edit', editOptionsSchema, editImage);
const understand = task<ParsedUnderstandOptions, TextRunEvent, UnderstandResult>('understand', understandOptionsSchema, understandImage);

const asUniPic1 = (manifest: Manifest) => manifest as UniPic1Manifest;

export const unipic1Family: ModelFamily<ModelAssets> = {
  id: 'unipic1',
  versions: [UNIPIC1_FAMILY_VERSION],
  manifestSchema: unipic1ManifestSchema,
  tasks: { generate, edit, understand },
  referencedFiles(manifest) {
    const { tokenizer, constants, resolutions } = asUniPic1(manifest);
    return [
      { path: tokenizer.json, field: 'tokenizer.json' },
      { path: tokenizer.config, field: 'tokenizer.config' },
      { path: constants, field: 'constants' },
      ...resolutions.map((resolution, index) => ({ path: resolution.tables, field: `resolutions.${index}.tables` })),
    ];
  },
  assetFiles(manifest, tasks: readonly Capability[], sizes) {
    const { tokenizer, constants, resolutions, name } = asUniPic1(manifest);
    const paths = [tokenizer.json, tokenizer.config];
    // The mask token fills the masked slots of generate and edit; understanding never reads it.
    if (tasks.some((task) => task !== 'understand')) paths.push(constants);
    const offered = resolutions.map((resolution) => resolution.size);
    for (const size of sizes ?? offered) {
      const resolution = resolutions.find((candidate) => candidate.size === size);
      if (!resolution) {
        throw new InvalidOptionsError(`${name} has no ${size}px resolution (it has ${offered.join(', ')})`, {
          details: { issues: [{ path: 'sizes', message: `${size} is not offered` }] },
        });
      }
      paths.push(resolution.tables);
    }
    return paths;
  },
  createAssets: (manifest, read) => new ModelAssets(asUniPic1(manifest), read),
  // At 1024 px each of these holds ~0.3–3 GB of activations for one run per MAR iteration or per
  // image; kept by ORT's arena after the run, their peaks added up across sessions
  // (docs/performance.md, "Memory"). The LLM, the head and the strip decoder run often and small.
  // The strip encoder runs once per source image, before the LLM prefill: its kept arena (passes and
  // the tail at 256 px) would sit under the prefill's peak (docs/performance.md, "Strip VAE encoder").
  transientGraphs: ['mar_encoder', 'mar_decoder', 'vae_encoder', 'vae_decoder', 'vae_encoder_strips'],
  warmUp: (graphs, manifest, loaded, onProgress, signal) => warmUp(graphs, asUniPic1(manifest).config, loaded as never, onProgress, signal),
};

/** The option, event and result types of UniPic-1's tasks (the built-in `UniPic` class's). */
export interface UniPic1Tasks extends TaskTypes {
  generate: { options: GenerateOptions; event: ImageRunEvent; result: ImageResult };
  edit: { options: EditOptions; event: ImageRunEvent; result: ImageResult };
  understand: { options: UnderstandOptions; event: TextRunEvent; result: UnderstandResult };
}
