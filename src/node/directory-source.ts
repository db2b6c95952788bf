import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { FileVerifier } from '../core/sources/file-verifier.js';
import type { ModelSource } from '../core/sources/model-source.js';
import { IntegrityError } from '../errors/integrity-error.js';
import { InvalidModelError } from '../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import { MANIFEST_FILE } from '../core/sources/model-source.js';
import { explainMissingModelFolder } from './missing-model-folder.js';
import { readFileChunks } from './read-file-chunks.js';

/**
 * A model folder on the local disk. Files are delivered as paths (ONNX Runtime maps them), never
 * copied. `verify: 'fast'` checks sizes only, because hashing gigabytes on every load costs
 * seconds and the folder is the user's own; `verify: 'full'` hashes each file.
 */
export function createDirectorySource(directory: string): ModelSource {
  const root = resolve(directory);
  const pathOf = (path: string) => {
    const full = join(root, path);
    // The manifest schema already refuses `..`; this also holds for sources built by hand.
    const inside = relative(root, full);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new InvalidModelError(`${path} points outside the model folder ${root}`);
    }
    return full;
  };
  const statFile = async (path: string) => {
    const full = pathOf(path);
    const info = await stat(full).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
        const message = path === MANIFEST_FILE ? explainMissingModelFolder(root) : `${full} does not exist`;
        throw new ModelNotFoundError(message, { cause: error, details: { path } });
      }
      throw error;
    });
    if (!info.isFile()) throw new InvalidModelError(`${full} is not a file`);
    return { full, size: info.size };
  };
  return {
    kind: 'directory',
    description: root,
    isRemote: () => false,
    open: async (path, request) => {
      const { full, size } = await statFile(path);
      const offset = Math.min(request.offset, size);
      const stream = createReadStream(full, { start: offset, signal: request.signal });
      return { offset, size, body: Readable.toWeb(stream) as ReadableStream<Uint8Array> };
    },
    readLocal: async (entry, context) => {
      const { full, size } = await statFile(entry.path);
      if (size !== entry.size) {
        throw new IntegrityError(`${full} has ${size} bytes, the manifest lists ${entry.size}`, {
          details: { path: entry.path, expectedSize: entry.size, actualSize: size },
        });
      }
      if (context.verify === 'full') {
        const verifier = new FileVerifier(entry, context.createHash);
        await readFileChunks(
          full,
          (chunk) => {
            verifier.update(chunk);
            context.onBytes(verifier.bytes);
          },
          context.signal ? { signal: context.signal } : {},
        );
        verifier.assertComplete();
      }
      return { kind: 'path', entry, path: full };
    },
  };
}
