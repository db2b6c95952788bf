import { join } from 'node:path';
import type { HubCheckpointFamily } from '../../../convert/hub/convert-from-hub.js';
import { HubFolderListing } from '../../../convert/hub/select-hub-files.js';
import type { HubRepoFile } from '../../../core/hub/hub-files.js';
import { isHubId, parseHubId } from '../../../core/hub/hub-id.js';
import { VLM_FOLDER } from './convert-metaquery.js';

/** Where the official scripts take Qwen2.5-VL from when the Skywork repository lacks it (`unipic2_mq_t2i.py`). */
export const DEFAULT_VLM_REPO = 'Qwen/Qwen2.5-VL-7B-Instruct';

type Where = { repo: string; commit: string; subfolder: string };

const WEIGHTS = 'diffusion_pytorch_model.safetensors';

/**
 * Skywork's side: `conditioner/` (config and safetensors weights) and, when the repository has them,
 * the sampler's `transformer/`, `vae/` (config and weights) and `scheduler/scheduler_config.json`
 * (generate and edit; the converter refuses a partial set, as locally).
 */
export function selectConditionerFiles(files: readonly HubRepoFile[], where: Where): string[] {
  const listing = new HubFolderListing(files, where);
  listing.refuseMissing(listing.has('conditioner/config.json') ? [] : ['conditioner/config.json'], 'the MetaQuery conditioner');
  const diffusion = ['transformer', 'vae'].flatMap((folder) =>
    listing.has(`${folder}/config.json`) ? [`${folder}/config.json`, ...listing.safetensorsWeights(folder, WEIGHTS)] : [],
  );
  const scheduler = listing.has('scheduler/scheduler_config.json') ? ['scheduler/scheduler_config.json'] : [];
  return listing.inRepository(['conditioner/config.json', ...listing.safetensorsWeights('conditioner', WEIGHTS), ...diffusion, ...scheduler]);
}

/**
 * A Qwen2.5-VL folder (`where.subfolder`): `config.json`, the generation and preprocessor
 * configs when present, the tokenizer (`tokenizer.json`, else `vocab.json` + `merges.txt`, with
 * `tokenizer_config.json`) and the safetensors weights.
 */
export function selectVlmFiles(files: readonly HubRepoFile[], where: Where): string[] {
  const listing = new HubFolderListing(files, where);
  const missing = ['config.json', 'tokenizer_config.json'].filter((path) => !listing.has(path));
  const tokenizer = listing.has('tokenizer.json') ? ['tokenizer.json'] : ['vocab.json', 'merges.txt'];
  missing.push(...tokenizer.filter((path) => !listing.has(path)));
  listing.refuseMissing(missing, 'the Qwen2.5-VL files the converter needs');
  const optional = ['generation_config.json', 'preprocessor_config.json'].filter((path) => listing.has(path));
  return listing.inRepository(['config.json', 'tokenizer_config.json', ...tokenizer, ...optional, ...listing.safetensorsWeights('', 'model.safetensors')]);
}

/** The `vlm` option as a Hub location: an `hf:` id, the default repository, or none (a local folder). */
function vlmLocation(vlm: unknown): { repo: string; revision: string; subfolder: string } | undefined {
  if (typeof vlm === 'string' && !isHubId(vlm)) return undefined;
  const parsed = parseHubId(typeof vlm === 'string' ? vlm : `hf:${DEFAULT_VLM_REPO}`);
  return { repo: parsed.repo, revision: parsed.revision ?? 'main', subfolder: parsed.subfolder };
}

/**
 * MetaQuery's hook for `convertFromHub`: the Skywork repository's `conditioner/` (and its
 * `transformer/`, `vae/`, `scheduler/`) and Qwen2.5-VL,
 * taken from `--vlm` (an `hf:` id or a local folder) or, without it, from the Skywork repository's
 * `Qwen2.5-VL-7B-Instruct/` when it has one, else from `Qwen/Qwen2.5-VL-7B-Instruct`.
 */
export const metaqueryHubCheckpoint: HubCheckpointFamily = {
  detect: (files, subfolder) => (new HubFolderListing(files, { repo: '', commit: '', subfolder }).has('conditioner/config.json') ? 'certain' : undefined),
  requests: (location, _widened, options) => {
    const vlm = vlmLocation(options.vlm);
    const inside = `${location.subfolder ? `${location.subfolder}/` : ''}${VLM_FOLDER}`;
    return [
      {
        repo: location.repo,
        revision: location.revision,
        select: (files, snapshot) => {
          const conditioner = selectConditionerFiles(files, { ...snapshot, subfolder: location.subfolder });
          const bundled = options.vlm === undefined && files.some((file) => file.path.startsWith(`${inside}/`));
          return bundled ? [...conditioner, ...selectVlmFiles(files, { ...snapshot, subfolder: inside })] : conditioner;
        },
      },
      ...(vlm
        ? [
            {
              repo: vlm.repo,
              revision: vlm.revision,
              select: (files: readonly HubRepoFile[], snapshot: { repo: string; commit: string }) =>
                selectVlmFiles(files, { ...snapshot, subfolder: vlm.subfolder }),
              // Without --vlm, only when the Skywork repository did not bring its own copy.
              when: (earlier: readonly { files: readonly string[] }[]) =>
                options.vlm !== undefined || !earlier.some((snapshot) => snapshot.files.some((path) => path.startsWith(`${inside}/`))),
            },
          ]
        : []),
    ];
  },
  convertOptions: (snapshots, options) => {
    const vlm = vlmLocation(options.vlm);
    const fetched = vlm && snapshots.slice(1).find((snapshot) => snapshot.repo === vlm.repo);
    return fetched ? { vlm: vlm.subfolder ? join(fetched.directory, ...vlm.subfolder.split('/')) : fetched.directory } : {};
  },
};
