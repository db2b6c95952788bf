import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HUB_ENDPOINT, type HubOptions } from '../../core/hub/hub-options.js';
import { defaultCacheDir } from '../default-cache-dir.js';

/** What `hf:` sources use in Node: options first, then the variables Python's huggingface_hub reads. */
export interface HubEnvironment {
  readonly endpoint: string;
  readonly token?: string;
  /** `HF_HUB_OFFLINE`: no request at all, files from the cache only. */
  readonly offline: boolean;
  /** The cache root holding `models--{org}--{name}/`. */
  readonly cacheDir: string;
  /** unipic's own cache root (`UNIPIC_CACHE_DIR`…), for the listing records of offline conversions. */
  readonly unipicCacheDir: string;
}

const TRUE_VALUES = new Set(['1', 'on', 'yes', 'true']);

/**
 * - endpoint: `hub.endpoint`, `HF_ENDPOINT`, else https://huggingface.co;
 * - token: `hub.token`, `HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, else the file `huggingface-cli login`
 *   writes (`HF_TOKEN_PATH`, else `$HF_HOME/token`);
 * - cache: `hub.cacheDir`, `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub`, else
 *   `$XDG_CACHE_HOME/huggingface/hub` or `~/.cache/huggingface/hub`;
 * - offline: `HF_HUB_OFFLINE` set to 1/ON/YES/TRUE.
 */
export function hubEnvironment(options: HubOptions = {}, environment: NodeJS.ProcessEnv = process.env): HubEnvironment {
  const home = environment.HF_HOME || join(environment.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  const endpoint = (options.endpoint ?? (environment.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT)).replace(/\/+$/, '');
  const token = options.token ?? (environment.HF_TOKEN || environment.HUGGING_FACE_HUB_TOKEN || readTokenFile(environment.HF_TOKEN_PATH || join(home, 'token')));
  return {
    endpoint,
    ...(token ? { token } : {}),
    offline: TRUE_VALUES.has((environment.HF_HUB_OFFLINE ?? '').trim().toLowerCase()),
    cacheDir: options.cacheDir ?? (environment.HF_HUB_CACHE || environment.HUGGINGFACE_HUB_CACHE || join(home, 'hub')),
    unipicCacheDir: defaultCacheDir(environment),
  };
}

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
