import * as ort from 'onnxruntime-node';
import type { Graphs } from '../../../../src/core/model/graphs.js';
import type { DeviceTensor, HostTensor } from '../../../../src/spec/backend.js';
import type { BuiltGraph } from '../layers/graph-runner.js';

/** A `Graphs` over one built graph in an ORT node session, counting runs (strip decoder tests). */
export async function sessionGraphs(graph: BuiltGraph): Promise<{ graphs: Graphs; runs: () => number; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(
    graph.bytes,
    graph.data.length > 0 ? { externalData: [{ path: 'graph.data', data: graph.data }] } : {},
  );
  let runs = 0;
  const graphs: Graphs = {
    has: () => true,
    async run(_name, feeds, options) {
      runs++;
      const inputs: Record<string, ort.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds as Record<string, HostTensor>)) inputs[name] = new ort.Tensor(feed.type as 'float32', feed.data as Float32Array, feed.dims);
      const out = options?.outputs ? await session.run(inputs, [...options.outputs]) : await session.run(inputs);
      return Object.fromEntries(
        Object.entries(out).map(([name, t]) => {
          const host: HostTensor = { type: 'float32', dims: t.dims, data: t.data as Float32Array };
          const device: DeviceTensor = { type: 'float32', dims: t.dims, location: 'cpu', download: async () => host, dispose: () => {} };
          return [name, device];
        }),
      ) as never;
    },
  };
  return { graphs, runs: () => runs, release: () => session.release() };
}
