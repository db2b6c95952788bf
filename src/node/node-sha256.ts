import { createHash } from 'node:crypto';
import type { HashFactory } from '../core/sources/incremental-hash.js';

/** node:crypto's native sha256 (several times faster than a JS implementation on large files). */
export const createNodeSha256: HashFactory = () => {
  const hash = createHash('sha256');
  return {
    update: (chunk) => void hash.update(chunk),
    digestHex: () => hash.digest('hex'),
  };
};
