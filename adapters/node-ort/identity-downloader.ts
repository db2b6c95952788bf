import type { TensorDataType } from '../../src/spec/backend.js';
import { identityModel } from '../shared/probe-models.js';
import type { OrtInferenceSession, OrtRuntime, OrtTensor } from '../shared/ort-runtime.js';

/**
 * Copies WebGPU buffers home by running them through an Identity session that has no
 * `preferredOutputLocation`, so ORT itself copies the output to the CPU. Why not
 * `tensor.getData()`: in onnxruntime-node 1.30 downloading a 'gpu-buffer' tensor that way
 * aborted the whole process ("terminate called after throwing an instance of 'char const*'",
 * Dawn on SwiftShader), while feeding the same tensor to a session works.
 */
export class IdentityDownloader {
  private readonly sessions = new Map<string, Promise<OrtInferenceSession>>();

  constructor(
    private readonly runtime: OrtRuntime,
    private readonly executionProviders: unknown[],
  ) {}

  async download(tensor: OrtTensor): Promise<unknown> {
    const session = await this.sessionFor(tensor.type as TensorDataType);
    const result = await session.run({ x: tensor });
    return result.y.data;
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    // A session that never got created has nothing to release.
    await Promise.all(
      sessions.map((pending) =>
        pending.then(
          (session) => session.release(),
          () => undefined,
        ),
      ),
    );
  }

  private sessionFor(type: TensorDataType): Promise<OrtInferenceSession> {
    let session = this.sessions.get(type);
    if (!session) {
      session = this.runtime.InferenceSession.create(identityModel(type), { executionProviders: this.executionProviders });
      // A failed creation must not poison later downloads.
      session.catch(() => this.sessions.delete(type));
      this.sessions.set(type, session);
    }
    return session;
  }
}
