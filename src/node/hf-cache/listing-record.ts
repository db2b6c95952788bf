import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HubRepoFile } from '../../core/hub/hub-files.js';

/**
 * The Hub's file list of a repository at a commit, kept beside unipic's own cache
 * (`<unipic cache>/hub-listings/<endpoint hash>/models--{org}--{name}/<commit>.json`) so that an
 * offline conversion knows which files the family would select, and can name the ones the HF
 * cache lacks. Python's cache has no such record; without one, the snapshot folder's files stand
 * in for the listing. Not in the HF cache itself, which Python's cache tools expect to hold only
 * repositories.
 */
export function listingRecordPath(unipicCacheDir: string, endpoint: string, repo: string, commit: string): string {
  const host = createHash('sha256').update(endpoint).digest('hex').slice(0, 16);
  return join(unipicCacheDir, 'hub-listings', host, `models--${repo.split('/').join('--')}`, `${commit}.json`);
}

export async function readListingRecord(path: string): Promise<HubRepoFile[] | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (!Array.isArray(value)) return undefined;
    const valid = value.every(
      (file) => typeof file === 'object' && file !== null && typeof (file as HubRepoFile).path === 'string' && Number.isSafeInteger((file as HubRepoFile).size),
    );
    return valid ? (value as HubRepoFile[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: without the record, offline conversions fall back to the snapshot folder. */
export async function writeListingRecord(path: string, files: readonly HubRepoFile[]): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(files));
    await rename(temporary, path);
  } catch {
    // a read-only unipic cache only costs the offline precision
  }
}
