/**
 * A sha256 fed chunk by chunk. Node uses node:crypto (native, fast); browsers use @noble/hashes
 * because WebCrypto's digest() only takes the whole buffer at once. Core code receives a factory
 * so it never imports a platform module.
 */
export interface IncrementalHash {
  update(chunk: Uint8Array): void;
  /** Lowercase hex, as the manifest stores it. Call once. */
  digestHex(): string;
}

export type HashFactory = () => IncrementalHash;

export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
