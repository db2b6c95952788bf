import type { Backend, DeviceTensor, Feed, HostTensor } from '../../../src/spec/backend.js';
import { wrapBackend } from '../../../src/spec/wrap-backend.js';

export interface GraphCall {
  readonly graph: string;
  readonly feeds: Record<string, HostTensor>;
  readonly outputs: Record<string, HostTensor>;
}

async function host(feed: Feed): Promise<HostTensor> {
  return 'download' in feed && typeof feed.download === 'function' ? feed.download() : (feed as HostTensor);
}

/** Records every run's inputs and outputs, in order, through the backend middleware. */
export function recordingBackend(inner: Backend): { backend: Backend; calls: GraphCall[] } {
  const calls: GraphCall[] = [];
  const backend = wrapBackend(inner, {
    name: 'recording',
    async wrapRun({ graph, feeds, run }) {
      const outputs = await run();
      const record: GraphCall = { graph, feeds: {}, outputs: {} };
      for (const [name, feed] of Object.entries(feeds)) record.feeds[name] = await host(feed);
      for (const [name, output] of Object.entries(outputs)) record.outputs[name] = await (output as DeviceTensor).download();
      calls.push(record);
      return outputs;
    },
  });
  return { backend, calls };
}
