import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeOrtBackend } from '../../../../adapters/node-ort/index.js';
import { CheckedGraphs } from '../../../../src/core/model/graphs.js';
import type { UniPic1GraphRunner } from '../../../../src/families/unipic1/call-context.js';
import { type UniPic1Manifest, unipic1ManifestSchema } from '../../../../src/families/unipic1/manifest.js';
import type { BackendSession } from '../../../../src/spec/backend.js';
import { tinyModelDir } from '../../../support/tiny-model.js';

/** The tiny model's fp32 graphs on node-ort CPU, recording the name of every graph run (in order). */
export interface RecordingGraphs {
  readonly manifest: UniPic1Manifest;
  readonly graphs: UniPic1GraphRunner;
  readonly ran: string[];
  dispose(): Promise<void>;
}

export async function recordingTinyGraphs(): Promise<RecordingGraphs> {
  const folder = await tinyModelDir();
  const manifest = unipic1ManifestSchema.parse(JSON.parse(readFileSync(join(folder, 'unipic.json'), 'utf8')));
  const backend = new NodeOrtBackend();
  await backend.init({ device: 'cpu' });
  const sessions = new Map<string, Promise<BackendSession>>();
  const ran: string[] = [];
  const graphs = new CheckedGraphs((name) => {
    ran.push(name);
    if (!sessions.has(name)) sessions.set(name, backend.createSession({ name, path: join(folder, manifest.graphs[name as 'vae_decoder']!.fp32!.file) }));
    return sessions.get(name)!;
  }) as unknown as UniPic1GraphRunner;
  return { manifest, graphs, ran, dispose: () => backend.dispose() };
}
