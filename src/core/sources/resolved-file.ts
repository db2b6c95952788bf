import type { FileEntry } from '../../spec/manifest.js';

/**
 * How one manifest file is handed to a backend adapter once it is present and verified.
 *
 * - `path`: a file on the local disk (a local model folder, or the Node disk cache). Node adapters
 *   give the path to ONNX Runtime, which maps the file: no copy through the JS heap. Files keep the
 *   manifest's relative layout, so a graph finds its external data beside it.
 * - `url`: a URL the runtime fetches itself: in browsers an object URL (`blob:`) over a Cache API
 *   entry or a user Blob. Call `release()` once the session is created to revoke it.
 * - `bytes`: the file's bytes in memory (user-supplied bytes, or a download with caching off).
 */
export type ResolvedFile =
  | { readonly kind: 'path'; readonly entry: FileEntry; readonly path: string }
  | { readonly kind: 'url'; readonly entry: FileEntry; readonly url: string; release(): void }
  | { readonly kind: 'bytes'; readonly entry: FileEntry; readonly bytes: Uint8Array };

/** The files of one `resolve()` call, by manifest path. */
export class ResolvedFiles {
  private readonly byPath: ReadonlyMap<string, ResolvedFile>;

  constructor(files: Iterable<ResolvedFile>) {
    this.byPath = new Map(Array.from(files, (file) => [file.entry.path, file] as const));
  }

  get paths(): string[] {
    return [...this.byPath.keys()];
  }

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  get(path: string): ResolvedFile {
    const file = this.byPath.get(path);
    if (!file) throw new Error(`${path} was not part of this resolve() call`);
    return file;
  }

  /** Revoke every object URL this set handed out. Paths and bytes need nothing. */
  release(): void {
    for (const file of this.byPath.values()) if (file.kind === 'url') file.release();
  }
}
