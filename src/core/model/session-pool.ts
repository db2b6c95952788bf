import type { Backend, BackendSession, GraphSource } from '../../spec/backend.js';
import type { Dtype, GraphName, Manifest } from '../../spec/manifest.js';
import type { ResolvedFile, ResolvedFiles } from '../sources/resolved-file.js';

/** Graph files (model + external data) of the chosen dtype for each graph. */
export function graphFiles(manifest: Manifest, name: GraphName, dtype: Dtype): string[] {
  const variant = manifest.graphs[name]?.[dtype];
  if (!variant) throw new Error(`graph ${name} has no ${dtype} variant`);
  return [variant.file, ...variant.externalData];
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function toGraphSource(name: string, graph: ResolvedFile, data: ResolvedFile[]): GraphSource {
  // External data is named relative to the graph file, which sits beside it.
  const externalData = data.map((file) =>
    file.kind === 'bytes'
      ? { path: baseName(file.entry.path), data: file.bytes }
      : { path: baseName(file.entry.path), data: file.kind === 'url' ? file.url : file.path },
  );
  if (graph.kind === 'path') return { name, path: graph.path };
  if (graph.kind === 'url') return { name, path: graph.url, externalData };
  return { name, bytes: graph.bytes, externalData };
}

/**
 * Creates each graph's session once, on first use (or eagerly), and frees them all on dispose.
 * Concurrent first uses share one creation.
 */
export class SessionPool {
  private readonly sessions = new Map<GraphName, Promise<BackendSession>>();
  private disposed = false;

  constructor(
    private readonly backend: Backend,
    private readonly manifest: Manifest,
    private readonly dtypes: Partial<Record<GraphName, Dtype>>,
    private readonly files: () => Promise<ResolvedFiles>,
    private readonly options: {
      threads?: number;
      transient?: readonly GraphName[];
      onCreate?: (name: GraphName, ms: number) => void;
      onRelease?: (name: GraphName) => void;
    } = {},
  ) {}

  get created(): GraphName[] {
    return [...this.sessions.keys()];
  }

  get(name: GraphName): Promise<BackendSession> {
    if (this.disposed) return Promise.reject(new Error('session pool is disposed'));
    let session = this.sessions.get(name);
    if (!session) {
      session = this.create(name);
      this.sessions.set(name, session);
      // A failed creation may be retried by the next call.
      session.catch(() => this.sessions.delete(name));
    }
    return session;
  }

  private async create(name: GraphName): Promise<BackendSession> {
    const dtype = this.dtypes[name];
    if (!dtype) throw new Error(`this model has no ${name} graph`);
    const [graphPath, ...dataPaths] = graphFiles(this.manifest, name, dtype);
    const files = await this.files();
    // Disposed while the files were being resolved: don't load a graph nobody will run.
    if (this.disposed) throw new Error('session pool is disposed');
    const started = Date.now();
    const session = await this.backend.createSession(
      toGraphSource(
        name,
        files.get(graphPath),
        dataPaths.map((p) => files.get(p)),
      ),
      { threads: this.options.threads, ...(this.options.transient?.includes(name) ? { keepWorkingMemory: false } : {}) },
    );
    if (this.disposed) {
      await session.dispose();
      throw new Error('session pool is disposed');
    }
    this.options.onCreate?.(name, Date.now() - started);
    return session;
  }

  /**
   * Free one graph's session now (waiting for a creation in progress); the next `get` creates it
   * again. Nothing happens for a graph never created. Callers must not release a graph that has a
   * run in flight: the model's call queue guarantees that for pipelines.
   */
  async release(name: GraphName): Promise<void> {
    const pending = this.sessions.get(name);
    if (!pending) return;
    this.sessions.delete(name);
    const session = await pending.catch(() => undefined);
    if (!session) return;
    await session.dispose();
    this.options.onRelease?.(name);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const pending = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(pending.map(async (p) => (await p.catch(() => undefined))?.dispose()));
  }
}
