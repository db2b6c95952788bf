import type { HubRepoFile } from '../../core/hub/hub-files.js';
import { formatHubId } from '../../core/hub/hub-id.js';
import { HubError } from '../../errors/hub-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';

const SHARD = /-\d{5}-of-\d{5}\.safetensors$/;
/** diffusers' precision variants (`x.fp16.safetensors`, `x.fp16-00001-of-00002.safetensors`): never the default weights. */
const VARIANT = /\.(fp16|bf16|fp32|ema|non_ema)([.-])/;

/**
 * A repository's listing seen from one folder inside it (`''` = the root): which paths exist, and
 * the selections families make from it, with paths returned relative to the repository.
 */
export class HubFolderListing {
  private readonly paths: ReadonlySet<string>;

  constructor(
    files: readonly HubRepoFile[],
    private readonly where: { readonly repo: string; readonly commit: string; readonly subfolder: string },
  ) {
    const prefix = this.prefix;
    this.paths = new Set(files.filter((file) => file.path.startsWith(prefix)).map((file) => file.path.slice(prefix.length)));
  }

  private get prefix(): string {
    return this.where.subfolder ? `${this.where.subfolder}/` : '';
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }

  /** Whether any file lies under `folder/`. */
  hasFolder(folder: string): boolean {
    return [...this.paths].some((path) => path.startsWith(`${folder}/`));
  }

  /** Every file directly in `folder/` (`''`: the listing's own folder). */
  filesIn(folder: string): string[] {
    const inside = folder ? `${folder}/` : '';
    return [...this.paths].filter((path) => path.startsWith(inside) && !path.slice(inside.length).includes('/'));
  }

  /**
   * The safetensors weights of `folder/`: its `<name>.safetensors.index.json` with the shards, or
   * its one `.safetensors` file; precision variants are left out. Two sets of weights are refused
   * here, before any byte is downloaded, as the folder readers would refuse them after.
   */
  safetensorsWeights(folder: string, expected: string): string[] {
    const inside = folder ? `${folder}/` : '';
    const names = this.filesIn(folder)
      .map((path) => path.slice(inside.length))
      .filter((name) => !VARIANT.test(name));
    const indexes = names.filter((name) => name.endsWith('.safetensors.index.json'));
    const singles = names.filter((name) => name.endsWith('.safetensors') && !SHARD.test(name));
    const shards = names.filter((name) => SHARD.test(name));
    if (indexes.length > 1 || singles.length > 1 || (indexes.length === 1 && singles.length === 1)) {
      throw new InvalidModelError(`${this.label(folder)} holds more than one set of weights (${[...indexes, ...singles].join(', ')})`, {
        details: { repo: this.where.repo, revision: this.where.commit, path: folder },
      });
    }
    if (indexes.length === 1) return [indexes[0], ...shards].map((name) => inside + name);
    if (singles.length === 1) return [inside + singles[0]];
    this.refuseMissing([inside + expected]);
    return [];
  }

  /** `HUB_ENTRY_NOT_FOUND` naming each path (relative to the listing's folder) the family needs and the repository lacks. */
  refuseMissing(missing: readonly string[], what = 'the files the converter needs'): void {
    if (missing.length === 0) return;
    const full = missing.map((path) => this.prefix + path);
    throw new HubError('HUB_ENTRY_NOT_FOUND', `${this.label()} lacks ${what}: ${full.join(', ')}`, {
      details: { repo: this.where.repo, revision: this.where.commit, missing: full },
    });
  }

  /** Paths relative to the listing's folder → paths in the repository. */
  inRepository(paths: readonly string[]): string[] {
    return paths.map((path) => this.prefix + path);
  }

  private label(folder?: string): string {
    return formatHubId({ repo: this.where.repo, revision: this.where.commit, subfolder: [this.where.subfolder, folder].filter(Boolean).join('/') });
  }
}
