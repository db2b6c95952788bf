import { IntegrityError } from '../../errors/integrity-error.js';
import type { FileEntry } from '../../spec/manifest.js';
import type { HashFactory, IncrementalHash } from './incremental-hash.js';

/**
 * Counts and hashes a file's bytes as they stream past and checks them against the manifest
 * entry. Too many bytes fail at once (a wrong file must not fill the disk); a short file or a
 * wrong digest fails in `assertComplete`.
 */
export class FileVerifier {
  private hash: IncrementalHash;
  private count = 0;

  constructor(
    readonly entry: FileEntry,
    private readonly createHash: HashFactory,
  ) {
    this.hash = createHash();
  }

  get bytes(): number {
    return this.count;
  }

  update(chunk: Uint8Array): void {
    if (this.count + chunk.byteLength > this.entry.size) {
      throw new IntegrityError(`${this.entry.path}: received more than the ${this.entry.size} bytes the manifest lists`, {
        details: { path: this.entry.path, expectedSize: this.entry.size },
      });
    }
    this.hash.update(chunk);
    this.count += chunk.byteLength;
  }

  /** Start over (the source restarted the file from its first byte). */
  reset(): void {
    this.hash = this.createHash();
    this.count = 0;
  }

  assertComplete(): void {
    const { path, size, sha256 } = this.entry;
    if (this.count !== size) {
      throw new IntegrityError(`${path}: got ${this.count} bytes, the manifest lists ${size}`, {
        details: { path, expectedSize: size, actualSize: this.count },
      });
    }
    const actual = this.hash.digestHex();
    if (actual !== sha256) {
      throw new IntegrityError(`${path}: sha256 ${actual} does not match the manifest's ${sha256}`, {
        details: { path, expectedSha256: sha256, actualSha256: actual },
      });
    }
  }
}
