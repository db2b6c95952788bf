import type { Dtype } from '../src/spec/manifest.js';
/**
 * Full-size converter proof (issue 3): a random checkpoint with UniPic-1.5B's exact shapes, its
 * conversion on this machine, and one LLM step plus one diffusion-head call on the result.
 *
 *   npx tsx bench/full-size-convert.ts make <checkpoint-dir>
 *   /usr/bin/time -v node --import tsx bench/full-size-convert.ts convert <checkpoint-dir> <out-dir> [--dtype fp32,q4]
 *   npx tsx bench/full-size-convert.ts check <out-dir> [--dtype q4] [--compare fp32]
 *
 * `convert` prints elapsed time, resident memory and the process's peak RSS after every step, and
 * a JSON summary at the end; `check` prints session and run timings and, with `--compare`, how far
 * the dtype's outputs are from the other dtype's on the same feeds. Numbers are in docs/model-format.md.
 * The outputs are many gigabytes: write them under /tmp and delete them afterwards.
 */
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../src/families/unipic1/convert/convert-checkpoint.js';
import { UNIPIC_1_5B } from '../src/families/unipic1/convert/checkpoint-config.js';
import { runFullSizeCheck } from './full-size-check.js';
import { peakRss, timedConversion } from './lib/timed-conversion.js';
import { writeFullSizeCheckpoint } from './full-size-checkpoint.js';

const GIB = 1024 ** 3;
/** Peak resident set size of this process so far (the kernel's high-water mark). */

async function make(directory: string): Promise<void> {
  const stats = await writeFullSizeCheckpoint(directory, UNIPIC_1_5B);
  console.log(JSON.stringify({ ...stats, gib: stats.bytes / GIB, peakRssBytes: peakRss() }));
}

async function convert(checkpoint: string, out: string, dtypes: Dtype[]): Promise<void> {
  const { summary, steps, graphBytes } = await timedConversion((onProgress) => convertCheckpoint(checkpoint, out, { dtypes, onProgress }));
  const report = {
    seconds: summary.ms / 1000,
    peakRssBytes: peakRss(),
    totalBytes: summary.manifest.files.reduce((sum, file) => sum + file.size, 0),
    graphBytes,
    buildSeconds: Object.fromEntries(summary.graphs.map((graph) => [`${graph.graph}.${graph.dtype}`, graph.ms / 1000])),
    keys: { required: summary.keys.required.length, ignored: summary.keys.ignored.map((entry) => entry.key), unknown: summary.keys.unknown },
    warnings: summary.warnings,
    steps,
  };
  console.log(JSON.stringify(report, null, 2));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dtype: { type: 'string' }, compare: { type: 'string' } },
  });
  const [command, ...paths] = positionals;
  if (command === 'make' && paths.length === 1) return make(paths[0]);
  if (command === 'convert' && paths.length === 2) return convert(paths[0], paths[1], (values.dtype ?? 'fp32,q4').split(',') as Dtype[]);
  if (command === 'check' && paths.length === 1) {
    const report = await runFullSizeCheck(paths[0], (values.dtype ?? 'q4') as Dtype, values.compare as Dtype | undefined);
    console.log(JSON.stringify({ ...report, peakRssBytes: peakRss() }, null, 2));
    return;
  }
  throw new Error(
    'usage: full-size-convert.ts make <checkpoint-dir> | convert <checkpoint-dir> <out-dir> [--dtype ...] | check <out-dir> [--dtype q4] [--compare fp32]',
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
