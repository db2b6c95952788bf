import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';

const MANIFEST = 'unipic.json';

/**
 * `unipic convert` reads an official checkpoint; pointed at a folder it wrote itself, it would
 * report every weight as missing. Say what the folder is and how to use it instead.
 */
export function refuseConvertedInput(checkpointDir: string): void {
  if (!existsSync(join(checkpointDir, MANIFEST))) return;
  const message =
    `${checkpointDir} is already a converted model (it has ${MANIFEST}): load it with UniPic.load('${checkpointDir}') ` +
    `or \`npx unipic info ${checkpointDir}\`. \`unipic convert\` reads an official checkpoint (pytorch_model.bin, kl16.ckpt, Qwen2.5-1.5B-Instruct/)`;
  throw new InvalidOptionsError(message, { details: { issues: [{ path: 'checkpointDir', message: 'already converted' }], reason: 'already-converted' } });
}

/**
 * The files an earlier conversion into `outDir` wrote, as its `unipic.json` lists them. Only these
 * are ever removed: a file the manifest does not list (the user's own) is never touched.
 */
export function previousConversionFiles(outDir: string): readonly string[] {
  const path = join(outDir, MANIFEST);
  if (!existsSync(path)) return [];
  try {
    const files = (JSON.parse(readFileSync(path, 'utf8')) as { files?: { path?: unknown }[] }).files;
    return Array.isArray(files) ? files.map((file) => file.path).filter((file): file is string => typeof file === 'string') : [];
  } catch {
    // Not a manifest we can read: we cannot tell which files are ours, so none is removed.
    return [];
  }
}

/** Remove the previous conversion's files that the new manifest does not list; returns them. */
export async function removeStaleFiles(outDir: string, previous: readonly string[], current: readonly string[]): Promise<string[]> {
  const keep = new Set(current);
  const root = resolve(outDir);
  const stale = previous.filter((path) => !keep.has(path) && path !== MANIFEST && resolve(root, path).startsWith(`${root}${sep}`));
  for (const path of stale) await rm(join(root, path), { force: true });
  return stale;
}
