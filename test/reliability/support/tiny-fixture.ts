import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { UniPic, type LoadOptions } from '../../../src/index.node.js';
import type { UniPic1Manifest as Manifest } from '../../../src/families/unipic1/manifest.js';
import { tinyModelDir } from '../../support/tiny-model.js';
import { InstrumentedBackend } from './instrumented-backend.js';

/** The tiny model, fp32 only: every graph, sizes 64 and 128. */
export function tinyDir(): Promise<string> {
  return tinyModelDir(['fp32']);
}

/** Cheap call settings: the smallest size, few MAR iterations, few diffusion steps. */
export const QUICK = { size: 64, steps: 2, diffusionSteps: 4, seed: 7 } as const;

const SOURCES = fileURLToPath(new URL('../../fixtures/images/sources/', import.meta.url));

/** Bytes of an image fixture (Pillow-written, test/fixtures/images/sources). */
export function imageFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(SOURCES, name)));
}

export interface InstrumentedModel {
  readonly model: UniPic;
  readonly backend: InstrumentedBackend;
}

/** The tiny model on node-ort CPU behind the instrumented backend. */
export async function loadInstrumented(directory?: string, options: LoadOptions = {}): Promise<InstrumentedModel> {
  const backend = new InstrumentedBackend(new NodeOrtBackend());
  const model = await UniPic.load(directory ?? (await tinyDir()), { dtype: 'fp32', device: 'cpu', threads: 1, ...options, backend });
  return { model, backend };
}

/**
 * The leak invariant after a call has settled: no output tensor is alive except the understood
 * image's prefix KV (2 per layer), which the model keeps on purpose for follow-up questions.
 */
export function expectNoLiveTensors(backend: InstrumentedBackend, allowedPrefixLayers = 0): void {
  expect(backend.liveTensorGraphs().filter((name) => !(allowedPrefixLayers && name.startsWith('llm.present.')))).toEqual([]);
  expect(backend.liveTensors).toBeLessThanOrEqual(2 * allowedPrefixLayers);
  expect(backend.runsInFlight).toBe(0);
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; details?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection, got a result');
}

/** The error a function throws synchronously. */
export function thrown(call: () => unknown): Error & { code?: string; details?: unknown } {
  try {
    call();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

/**
 * A private copy of the tiny model to damage: `change` edits the manifest (config, graphs, files)
 * and may rewrite files in the copy; recorded sizes and hashes follow the files unless
 * `keepRecords` is set (to model a file that no longer matches its manifest entry).
 */
export async function damagedCopy(
  change: (manifest: Manifest, folder: string) => void | Promise<void>,
  options: { keepRecords?: boolean } = {},
): Promise<{ folder: string; remove(): Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), 'unipic-reliability-'));
  await cp(await tinyDir(), folder, { recursive: true });
  const manifestPath = join(folder, 'unipic.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  await change(manifest, folder);
  if (!options.keepRecords) {
    for (const entry of manifest.files as { path: string; size: number; sha256: string }[]) {
      const bytes = await readFile(join(folder, entry.path)).catch(() => undefined);
      if (!bytes) continue;
      entry.size = bytes.byteLength;
      entry.sha256 = createHash('sha256').update(bytes).digest('hex');
    }
  }
  await writeFile(manifestPath, JSON.stringify(manifest, null, 1));
  return { folder, remove: () => rm(folder, { recursive: true, force: true }) };
}
