import { createHash, type Hash } from 'node:crypto';
import { FileVerifier } from '../../core/sources/file-verifier.js';
import type { HubRepoFile } from '../../core/hub/hub-files.js';
import { IntegrityError } from '../../errors/integrity-error.js';
import { createNodeSha256 } from '../node-sha256.js';
import type { StreamVerifier } from '../partial-download.js';

export type { StreamVerifier };

/**
 * The check the Hub's listing allows: the LFS sha256 when the file is in LFS, else the git blob
 * sha1 (`sha1("blob <size>\0" + bytes)`), else the size alone; always the size.
 */
export function hubFileVerifier(file: HubRepoFile, label: string): StreamVerifier {
  if (file.sha256) return new FileVerifier({ path: label, size: file.size, sha256: file.sha256 }, createNodeSha256);
  return new GitBlobVerifier(label, file.size, file.gitSha1);
}

class GitBlobVerifier implements StreamVerifier {
  private hash!: Hash;
  private count = 0;

  constructor(
    private readonly label: string,
    private readonly size: number,
    private readonly gitSha1: string | undefined,
  ) {
    this.reset();
  }

  get bytes(): number {
    return this.count;
  }

  reset(): void {
    this.hash = createHash('sha1').update(`blob ${this.size}\0`);
    this.count = 0;
  }

  update(chunk: Uint8Array): void {
    if (this.count + chunk.byteLength > this.size) {
      throw new IntegrityError(`${this.label}: received more than the ${this.size} bytes the Hub lists`, {
        details: { path: this.label, expectedSize: this.size },
      });
    }
    this.hash.update(chunk);
    this.count += chunk.byteLength;
  }

  assertComplete(): void {
    if (this.count !== this.size) {
      throw new IntegrityError(`${this.label}: got ${this.count} bytes, the Hub lists ${this.size}`, {
        details: { path: this.label, expectedSize: this.size, actualSize: this.count },
      });
    }
    const actual = this.hash.digest('hex');
    if (this.gitSha1 !== undefined && actual !== this.gitSha1) {
      throw new IntegrityError(`${this.label}: git blob id ${actual} does not match the Hub's ${this.gitSha1}`, {
        details: { path: this.label, expectedGitSha1: this.gitSha1, actualGitSha1: actual },
      });
    }
  }
}
