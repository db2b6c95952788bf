import type { FileEntry } from '../../spec/manifest.js';
import type { OpenFileStream } from './file-stream.js';
import { FileVerifier } from './file-verifier.js';
import type { HashFactory } from './incremental-hash.js';
import type { ResolvedFile } from './resolved-file.js';

/**
 * Download a file into one preallocated buffer (caching off, or a source that is never cached),
 * verifying as it arrives. The manifest size bounds the allocation, so a hostile server cannot
 * make it grow.
 */
export async function downloadToMemory(
  entry: FileEntry,
  open: OpenFileStream,
  createHash: HashFactory,
  onBytes: (fileLoaded: number) => void,
): Promise<ResolvedFile> {
  const bytes = new Uint8Array(entry.size);
  const stream = await open(0);
  const verifier = new FileVerifier(entry, createHash);
  for await (const chunk of stream.chunks) {
    const at = verifier.bytes;
    verifier.update(chunk);
    bytes.set(chunk, at);
    onBytes(verifier.bytes);
  }
  verifier.assertComplete();
  return { kind: 'bytes', entry, bytes };
}
