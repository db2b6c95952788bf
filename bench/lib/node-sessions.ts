import { join } from 'node:path';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../src/core/model/graphs.js';
import type { BackendSession } from '../../src/spec/backend.js';
import type { UniPic1GraphName as GraphName } from '../../src/families/unipic1/manifest.js';

/**
 * The SDK's run path for benchmark graphs: the node-ort adapter on CPU and CheckedGraphs (abort
 * checks, NaN scan), with graph files opened by path as the session pool does.
 */
export class NodeSessions {
  readonly graphs: CheckedGraphs;
  private readonly sessions = new Map<string, BackendSession>();

  private constructor(
    private readonly backend: NodeOrtBackend,
    private readonly directory: string,
    private readonly options: { threads?: number; extra?: Record<string, unknown> },
  ) {
    this.graphs = new CheckedGraphs(async (name) => this.session(name));
  }

  static async open(directory: string, options: { threads?: number; extra?: Record<string, unknown> } = {}): Promise<NodeSessions> {
    const backend = new NodeOrtBackend();
    await backend.init({ device: 'cpu' });
    return new NodeSessions(backend, directory, options);
  }

  /** Maps a graph name the core uses to a file in the folder. */
  readonly files = new Map<string, string>();

  async session(name: GraphName | string): Promise<BackendSession> {
    let session = this.sessions.get(name);
    if (!session) {
      const file = this.files.get(name) ?? `${name}.onnx`;
      session = await this.backend.createSession({ name, path: join(this.directory, file) }, this.options);
      this.sessions.set(name, session);
    }
    return session;
  }

  async close(): Promise<void> {
    await this.backend.dispose();
  }
}
