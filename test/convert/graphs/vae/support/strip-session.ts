import { NodeOrtBackend } from '../../../../../adapters/node-ort/index.js';
import { CheckedGraphs, type Graphs } from '../../../../../src/core/model/graphs.js';
import type { BuiltGraph } from '../../layers/support/graph-runner.js';

/** The SDK's checked runner over one built graph in a node-ort session, counting runs (strip decoder tests). */
export async function sessionGraphs(graph: BuiltGraph): Promise<{ graphs: Graphs; runs: () => number; release: () => Promise<void> }> {
  const backend = new NodeOrtBackend();
  await backend.init({ device: 'cpu' });
  // ORT refuses an empty external-data buffer: tiny graphs have none.
  const externalData = graph.data.length > 0 ? [{ path: 'graph.data', data: graph.data }] : [];
  const session = await backend.createSession({ name: 'vae_decoder_strips', bytes: graph.bytes, externalData });
  let runs = 0;
  const graphs = new CheckedGraphs(async () => {
    runs++;
    return session;
  });
  return { graphs, runs: () => runs, release: () => backend.dispose() };
}
