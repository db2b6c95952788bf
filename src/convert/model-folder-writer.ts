import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_VERSION, manifestSchema, type FileEntry, type Manifest } from '../spec/manifest.js';
import type { z } from 'zod';
import { awaitArrivals } from './readers/arriving-files.js';

/** sha256 of a file, streamed (graph data files can be gigabytes). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fileEntry(directory: string, path: string): Promise<FileEntry> {
  const full = join(directory, path);
  return { path, size: (await stat(full)).size, sha256: await sha256File(full) };
}

/**
 * Write `unipic.json` atomically after validating it against the SDK's own schema: the
 * family-neutral one, then the family's (`schema`), so a converter cannot write what the runtime
 * would refuse.
 */
export async function writeManifest<T extends Manifest>(directory: string, manifest: Omit<T, 'format' | 'version'>, schema: z.ZodType<T>): Promise<T> {
  // A conversion streamed from the Hub read its weights while they downloaded: publish only once they verified.
  await awaitArrivals();
  const full = schema.parse(manifestSchema.parse({ format: 'unipic', version: MANIFEST_VERSION, ...manifest }));
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, 'unipic.json.partial');
  await writeFile(temporary, `${JSON.stringify(full, null, 2)}\n`);
  await rename(temporary, join(directory, 'unipic.json'));
  return full;
}
