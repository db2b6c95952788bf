import type { HubCheckpointFamily } from '../../../convert/hub/convert-from-hub.js';
import type { HubRepoFile } from '../../../core/hub/hub-files.js';
import { HubError } from '../../../errors/hub-error.js';
import { isCheckpointWeightFile, LLM_FOLDER, VAE_FILE } from './open-checkpoint.js';
import { STRUCTURE_FILE } from './resolve-checkpoint-config.js';

export interface UniPic1HubFileOptions {
  /**
   * Also fetch the Qwen folder's own weights. Off by default: `pytorch_model.bin` carries every
   * `llm.*` weight and overrides the Qwen folder's (the official load order), so they would be
   * gigabytes downloaded and shadowed. `convertFromHub` turns it on only when the converter
   * reports `llm.*` weights missing.
   */
  readonly includeLlmBase?: boolean;
}

/**
 * The UniPic-1 converter's file list for the official layout on the Hub: the root's weight files
 * (`pytorch_model.bin`, or `.safetensors` / shards with their index), `kl16.ckpt`,
 * `unipic-config.json` when present, and from `Qwen2.5-1.5B-Instruct/` the `config.json`,
 * `generation_config.json` and the
 * tokenizer (`tokenizer.json`, else `vocab.json` + `merges.txt`, with `tokenizer_config.json`).
 * SigLIP, READMEs, trainer state and anything else are never downloaded.
 */
export function selectUniPic1Files(
  files: readonly HubRepoFile[],
  where: { repo: string; commit: string; subfolder: string },
  options: UniPic1HubFileOptions = {},
): string[] {
  const prefix = where.subfolder ? `${where.subfolder}/` : '';
  const inside = new Set(files.filter((file) => file.path.startsWith(prefix)).map((file) => file.path.slice(prefix.length)));
  const rootWeights = [...inside].filter((path) => !path.includes('/') && isCheckpointWeightFile(path) && path !== VAE_FILE);
  if (rootWeights.length === 0) {
    const missing = `${prefix}pytorch_model.bin`;
    throw new HubError(
      'HUB_ENTRY_NOT_FOUND',
      `hf:${where.repo}@${where.commit}${where.subfolder ? `/${where.subfolder}` : ''} is not a UniPic-1 checkpoint: it has no pytorch_model.bin (nor .safetensors weights)`,
      { details: { repo: where.repo, revision: where.commit, missing: [missing] } },
    );
  }
  const selected = [...rootWeights];
  for (const name of [VAE_FILE, STRUCTURE_FILE]) if (inside.has(name)) selected.push(name);
  const qwen = (name: string) => `${LLM_FOLDER}/${name}`;
  // generation_config.json carries the understanding defaults the official generate inherits.
  for (const name of ['config.json', 'generation_config.json']) if (inside.has(qwen(name))) selected.push(qwen(name));
  if (inside.has(qwen('tokenizer_config.json'))) {
    selected.push(qwen('tokenizer_config.json'));
    if (inside.has(qwen('tokenizer.json'))) selected.push(qwen('tokenizer.json'));
    else if (inside.has(qwen('vocab.json')) && inside.has(qwen('merges.txt'))) selected.push(qwen('vocab.json'), qwen('merges.txt'));
  }
  if (options.includeLlmBase) {
    for (const path of inside) {
      const name = path.slice(LLM_FOLDER.length + 1);
      if (path.startsWith(`${LLM_FOLDER}/`) && !name.includes('/') && isCheckpointWeightFile(name)) selected.push(path);
    }
  }
  return selected.map((path) => prefix + path);
}

/** UniPic-1's hook for `convertFromHub`: one repository; the Qwen weights only if the converter asks. */
export const uniPic1HubCheckpoint: HubCheckpointFamily = {
  // The VAE file is UniPic-1's own; root weights without it could be another model's.
  detect: (files, subfolder) => {
    const prefix = subfolder ? `${subfolder}/` : '';
    const root = files.map((file) => file.path).filter((path) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/'));
    const names = new Set(root.map((path) => path.slice(prefix.length)));
    const weights = [...names].some((name) => isCheckpointWeightFile(name) && name !== VAE_FILE);
    if (!weights) return undefined;
    return names.has(VAE_FILE) ? 'certain' : 'possible';
  },
  requests: (location, widened) => [
    {
      repo: location.repo,
      revision: location.revision,
      select: (files, snapshot) => selectUniPic1Files(files, { ...snapshot, subfolder: location.subfolder }, { includeLlmBase: widened }),
    },
  ],
  // The converter names missing weights in details.missing; llm.* ones may be in the Qwen folder.
  needsWider: (error) => {
    const missing = (error as { details?: { missing?: unknown } } | undefined)?.details?.missing;
    return Array.isArray(missing) && missing.some((key) => typeof key === 'string' && key.startsWith('llm.'));
  },
};
