import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import type { Backend, BackendInitOptions, BackendInfo, BackendSession, GraphSource, SessionOptions } from '../../src/spec/backend.js';

/**
 * The node-ort backend with extra ORT session options on every session (the SDK's session pool
 * passes only `threads`): lets the memory benchmark try settings such as `enableCpuMemArena`
 * through the real `UniPic.load` path.
 */
export class SessionOptionsBackend implements Backend {
  readonly specificationVersion: Backend['specificationVersion'];
  readonly name = 'node-ort';
  private readonly inner = new NodeOrtBackend();

  constructor(private readonly extra: Readonly<Record<string, unknown>>) {
    this.specificationVersion = this.inner.specificationVersion;
  }

  get liveSessions(): number {
    return this.inner.liveSessions;
  }

  init(options?: BackendInitOptions): Promise<BackendInfo> {
    return this.inner.init(options);
  }

  createSession(graph: GraphSource, options: SessionOptions = {}): Promise<BackendSession> {
    return this.inner.createSession(graph, { ...options, extra: { ...options.extra, ...this.extra } });
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
