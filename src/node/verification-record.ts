import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Stats } from 'node:fs';
import type { FileEntry } from '../spec/manifest.js';

/**
 * The sidecar written when a cached file has been hashed and matched its manifest entry. A later
 * load trusts the file without rehashing while its size and modification time are unchanged.
 * Trade-off: a bit flipped on disk after verification (same size, same mtime) goes unnoticed until
 * `verify: 'full'`; the gain is a load that does not read gigabytes before ONNX Runtime does.
 */
interface VerificationRecord {
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export async function recordMatches(recordPath: string, entry: FileEntry, info: Stats): Promise<boolean> {
  let record: Partial<VerificationRecord>;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as Partial<VerificationRecord>;
  } catch {
    return false;
  }
  return record.sha256 === entry.sha256 && record.size === info.size && record.mtimeMs === info.mtimeMs;
}

/** Best effort: a read-only cache still serves hits, it just rehashes them each time. */
export async function writeRecord(recordPath: string, filePath: string, entry: FileEntry): Promise<void> {
  try {
    const info = await stat(filePath);
    await mkdir(dirname(recordPath), { recursive: true });
    const record: VerificationRecord = { sha256: entry.sha256, size: info.size, mtimeMs: info.mtimeMs };
    await writeFile(recordPath, JSON.stringify(record));
  } catch {
    await rm(recordPath, { force: true }).catch(() => undefined);
  }
}
