import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

interface BlobRecord {
  readonly blob: string;
  readonly hash: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * Which blobs of a Hugging Face cache unipic has hashed, kept under unipic's own cache
 * (`<unipic cache>/hub-verified/`) so the HF cache holds only what Python expects there. A blob
 * is trusted without rehashing while its size and mtime are those recorded when it was hashed
 * (when unipic downloaded it, or the first time unipic used a blob Python wrote) — the same
 * trade-off as the URL disk cache's verification records.
 */
export class BlobVerifications {
  constructor(private readonly root: string) {}

  private recordPath(blob: string, hash: string): string {
    const key = createHash('sha256').update(`${blob}\0${hash}`).digest('hex').slice(0, 40);
    return join(this.root, 'hub-verified', key.slice(0, 2), `${key}.json`);
  }

  async isVerified(blob: string, hash: string): Promise<boolean> {
    const info = await stat(blob).catch(() => undefined);
    if (!info?.isFile()) return false;
    try {
      const record = JSON.parse(await readFile(this.recordPath(blob, hash), 'utf8')) as Partial<BlobRecord>;
      return record.blob === blob && record.hash === hash && record.size === info.size && record.mtimeMs === info.mtimeMs;
    } catch {
      return false;
    }
  }

  /** Best effort: without a record the blob is hashed again next time. */
  async record(blob: string, hash: string): Promise<void> {
    const path = this.recordPath(blob, hash);
    try {
      const info = await stat(blob);
      const record: BlobRecord = { blob, hash, size: info.size, mtimeMs: info.mtimeMs };
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, JSON.stringify(record));
    } catch {
      await rm(path, { force: true }).catch(() => undefined);
    }
  }
}
