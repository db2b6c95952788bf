import type { Dtype } from '../../src/spec/manifest.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphContext, WeightSource } from '../../src/convert/graphs/weights.js';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { FileWeightSink } from '../../src/convert/onnx/weight-sink.js';
import { DedupWeightSink } from './dedup-weight-sink.js';
import { CONVERTER_SOURCES, sourceFingerprint } from './source-fingerprint.js';

/** One graph to build: a file name and how to fill the builder (return bytes to override toBytes). */
export interface GraphRecipe {
  readonly file: string;
  readonly dtype: Dtype;
  build(ctx: GraphContext): Uint8Array | void;
}

/**
 * A cached folder of benchmark graphs sharing one content-addressed external-data store. It is
 * rebuilt only when `stamp` (whatever determines its contents) changes.
 */
export async function prepareGraphFolder(
  directory: string,
  stamp: unknown,
  weights: WeightSource,
  recipes: readonly GraphRecipe[],
  log: (line: string) => void,
): Promise<string> {
  const stampPath = join(directory, 'bench-stamp.json');
  const stampText = JSON.stringify({ version: 1, stamp, sources: sourceFingerprint(CONVERTER_SOURCES), files: recipes.map((r) => [r.file, r.dtype]) });
  if (existsSync(stampPath) && (await readFile(stampPath, 'utf8')) === stampText) return directory;
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory, { recursive: true });
  const sink = new DedupWeightSink(new FileWeightSink(directory, 'weights'));
  try {
    for (const recipe of recipes) {
      const started = Date.now();
      const builder = new GraphBuilder(recipe.file.replace(/\..*$/, ''), sink);
      const bytes = recipe.build({ builder, weights, dtype: recipe.dtype }) ?? builder.toBytes();
      await writeFile(join(directory, recipe.file), bytes);
      log(`  built ${recipe.file} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    sink.close();
  }
  await writeFile(stampPath, stampText);
  return directory;
}
