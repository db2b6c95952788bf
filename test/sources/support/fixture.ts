import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadProgressEvent } from '../../../src/spec/progress.js';
import { makeSyntheticModel, type SyntheticModel } from './synthetic-model.js';
import { serveModel, type TestServer } from './test-server.js';

export interface Fixture {
  readonly model: SyntheticModel;
  readonly server: TestServer;
  readonly baseUrl: string;
  readonly cacheDir: string;
  dispose(): Promise<void>;
}

/** A synthetic model served over HTTP and an empty cache folder; retries fast for tests. */
export async function startFixture(options: { largeBytes?: number } = {}): Promise<Fixture> {
  const model = makeSyntheticModel(options);
  const { server, baseUrl } = await serveModel(model.files, model.manifestText);
  const cacheDir = await mkdtemp(join(tmpdir(), 'unipic-sources-'));
  return {
    model,
    server,
    baseUrl,
    cacheDir,
    dispose: async () => {
      await server.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/** Retry quickly so fault tests take milliseconds, not the production backoff. */
export const FAST_RETRIES = { retryDelayMs: 1, maxRetryDelayMs: 5 } as const;

/** The progress invariants every load must keep; returns the events for further checks. */
export function expectProgressInvariants(events: readonly LoadProgressEvent[], expectedTotal: number): void {
  if (events.length === 0) throw new Error('no progress events');
  let previousLoaded = -1;
  const fileLoaded = new Map<string, number>();
  for (const event of events) {
    if (event.total !== expectedTotal) throw new Error(`total ${event.total} !== ${expectedTotal}`);
    if (event.loaded < previousLoaded) throw new Error(`loaded went back from ${previousLoaded} to ${event.loaded}`);
    if (event.loaded > event.total) throw new Error(`loaded ${event.loaded} > total ${event.total}`);
    const previousFile = fileLoaded.get(event.file) ?? 0;
    if (event.fileLoaded < previousFile) throw new Error(`${event.file} went back from ${previousFile} to ${event.fileLoaded}`);
    if (event.fileLoaded > event.fileTotal) throw new Error(`${event.file} beyond its size`);
    fileLoaded.set(event.file, event.fileLoaded);
    previousLoaded = event.loaded;
  }
  const last = events[events.length - 1];
  if (last.loaded !== last.total) throw new Error(`last event at ${last.loaded} of ${last.total}`);
}
