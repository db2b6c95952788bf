import { join } from 'node:path';
import { NodeOrtBackend } from '../../../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../../../src/core/model/graphs.js';
import type { BackendSession } from '../../../../src/spec/backend.js';

/** A converted folder's `<graph>.fp32.onnx` graphs on node-ort CPU, each session created on first run. */
export async function fp32FolderGraphs(folder: string): Promise<{ graphs: CheckedGraphs; dispose: () => Promise<void> }> {
  const backend = new NodeOrtBackend();
  await backend.init({ device: 'cpu' });
  const sessions = new Map<string, Promise<BackendSession>>();
  const graphs = new CheckedGraphs((name) => {
    if (!sessions.has(name)) sessions.set(name, backend.createSession({ name, path: join(folder, `${name}.fp32.onnx`) }));
    return sessions.get(name)!;
  });
  return { graphs, dispose: () => backend.dispose() };
}
