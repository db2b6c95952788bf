import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, type HashFactory } from '../core/sources/incremental-hash.js';

/**
 * Incremental sha256 for browsers: WebCrypto's digest() needs the whole file in one buffer, which
 * for a gigabyte graph means a gigabyte of extra memory. @noble/hashes is audited and streaming.
 */
export const createNobleSha256: HashFactory = () => {
  const hash = sha256.create();
  return {
    update: (chunk) => void hash.update(chunk),
    digestHex: () => bytesToHex(hash.digest()),
  };
};
