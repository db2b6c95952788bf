import type { HubCheckpointFamily } from '../../../convert/hub/convert-from-hub.js';
import { HubFolderListing } from '../../../convert/hub/select-hub-files.js';
import type { HubRepoFile } from '../../../core/hub/hub-files.js';
import { COMPONENTS } from './kontext-checkpoint.js';

const WEIGHTS: Record<(typeof COMPONENTS)[number], string> = {
  transformer: 'diffusion_pytorch_model.safetensors',
  vae: 'diffusion_pytorch_model.safetensors',
  text_encoder: 'model.safetensors',
  text_encoder_2: 'model.safetensors',
  text_encoder_3: 'model.safetensors',
};

/**
 * The Kontext converter's file list for the published diffusers layout: each component's
 * `config.json` and safetensors weights (T5, `text_encoder_3/`, only when the repository has it),
 * `scheduler/scheduler_config.json`, and the tokenizer folders. Precision variants, PyTorch pickles,
 * READMEs and anything else are never downloaded.
 */
export function selectKontextFiles(files: readonly HubRepoFile[], where: { repo: string; commit: string; subfolder: string }): string[] {
  const listing = new HubFolderListing(files, where);
  const withT5 = listing.hasFolder('text_encoder_3');
  const components = COMPONENTS.filter((component) => component !== 'text_encoder_3' || withT5);
  const tokenizers = ['tokenizer', 'tokenizer_2', ...(withT5 ? ['tokenizer_3'] : [])];
  const configs = [...components.map((component) => `${component}/config.json`), 'scheduler/scheduler_config.json'];
  const missing = configs.filter((path) => !listing.has(path));
  for (const folder of tokenizers) if (listing.filesIn(folder).length === 0) missing.push(`${folder}/tokenizer_config.json`);
  listing.refuseMissing(missing, 'parts of a UniPic2-SD3.5M-Kontext diffusers checkpoint');
  const weights = components.flatMap((component) => listing.safetensorsWeights(component, WEIGHTS[component]));
  return listing.inRepository([...configs, ...weights, ...tokenizers.flatMap((folder) => listing.filesIn(folder))]);
}

/** Kontext's hook for `convertFromHub`: one repository, its diffusers sub-folders. */
export const kontextHubCheckpoint: HubCheckpointFamily = {
  // MetaQuery repositories carry the same transformer, with `conditioner/` instead of text encoders.
  detect: (files, subfolder) => {
    const listing = new HubFolderListing(files, { repo: '', commit: '', subfolder });
    const diffusers = listing.has('transformer/config.json') && listing.hasFolder('vae') && listing.hasFolder('text_encoder') && listing.hasFolder('text_encoder_2');
    return diffusers && !listing.hasFolder('conditioner') ? 'certain' : undefined;
  },
  requests: (location) => [
    { repo: location.repo, revision: location.revision, select: (files, snapshot) => selectKontextFiles(files, { ...snapshot, subfolder: location.subfolder }) },
  ],
};
