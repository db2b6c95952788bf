import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `$UNIPIC_CACHE_DIR`, else `$XDG_CACHE_HOME/unipic`, else `~/.cache/unipic`: where other
 * tools' model caches live too, so users find and clean it where they expect.
 */
export function defaultCacheDir(environment: NodeJS.ProcessEnv = process.env): string {
  if (environment.UNIPIC_CACHE_DIR) return environment.UNIPIC_CACHE_DIR;
  if (environment.XDG_CACHE_HOME) return join(environment.XDG_CACHE_HOME, 'unipic');
  return join(homedir(), '.cache', 'unipic');
}
