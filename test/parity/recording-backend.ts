import type { Backend, BackendSession, DeviceTensor, Feed, GraphSource, HostTensor, SessionOptions } from '../../src/spec/backend.js';

export interface GraphCall {
  readonly graph: string;
  readonly feeds: Record<string, HostTensor>;
  readonly outputs: Record<string, HostTensor>;
}

async function host(feed: Feed): Promise<HostTensor> {
  return 'download' in feed && typeof feed.download === 'function' ? feed.download() : (feed as HostTensor);
}

/** Wraps a backend at the session seam and records every run's inputs and outputs, in order. */
export function recordingBackend(inner: Backend): { backend: Backend; calls: GraphCall[] } {
  const calls: GraphCall[] = [];
  const wrap = (graph: string, session: BackendSession): BackendSession => ({
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    dispose: () => session.dispose(),
    async run(feeds, options) {
      const outputs = await session.run(feeds, options);
      const record: GraphCall = { graph, feeds: {}, outputs: {} };
      for (const [name, feed] of Object.entries(feeds)) record.feeds[name] = await host(feed);
      for (const [name, output] of Object.entries(outputs)) record.outputs[name] = await (output as DeviceTensor).download();
      calls.push(record);
      return outputs;
    },
  });
  const backend: Backend = {
    specificationVersion: inner.specificationVersion,
    name: `recording(${inner.name})`,
    init: (options) => inner.init(options),
    createSession: async (graph: GraphSource, options?: SessionOptions) => wrap(graph.name, await inner.createSession(graph, options)),
    get liveSessions() {
      return inner.liveSessions;
    },
    dispose: () => inner.dispose(),
  };
  return { backend, calls };
}
