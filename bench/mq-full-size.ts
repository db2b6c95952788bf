import type { Dtype } from '../src/spec/manifest.js';
/**
 * UniPic2-Metaquery full-size proof (issue 16): a random checkpoint with the published shapes (the
 * Qwen2.5-VL-7B folder and conditioner, `--part vlm`, 18.4 GB; the Kontext transformer, VAE and
 * scheduler, `--part diffusion`, 4.7 GB; both by default), its q4 conversion on this machine, then
 * one vision call and a few decode steps on the result, and each task's peak memory.
 *
 *   npx tsx bench/mq-full-size.ts make <checkpoint-dir> [--part vlm|diffusion]
 *   /usr/bin/time -v node --import tsx bench/mq-full-size.ts convert <checkpoint-dir> <out-dir> [--dtype q4[,q4]]
 *   node --import tsx bench/mq-full-size.ts check <out-dir> [--steps 8]
 *   node --import tsx bench/mq-full-size.ts memory <out-dir> understand|generate|edit [--steps 1] [--low-memory]
 *
 * `memory` runs one task per process (peak RSS is per process). Each prints a JSON report with wall time and the process's peak RSS. Numbers are in
 * docs/performance.md. The folders are tens of gigabytes: write them under /tmp and delete them after.
 */
import { statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertMetaqueryModel } from '../src/families/unipic2-metaquery/converter.js';
import { runMqFullSizeCheck } from './lib/mq-full-size-check.js';
import { measureMqMemory, type MqMemoryTask } from './lib/mq-memory.js';
import { writeSd3DiffusionFolders } from './lib/sd3-diffusion-checkpoint.js';
import { writeMqFullSizeCheckpoint } from './mq-full-size-checkpoint.js';

/**
 * Refuse to start without room for the output: on a shared disk a full-size run that stops with
 * ENOSPC near its end (the first attempt here did, at the last graph) wastes its whole time.
 */
async function requireFreeSpace(path: string, bytes: number): Promise<void> {
  const stats = await statfs(path);
  const free = stats.bavail * stats.bsize;
  if (free < bytes) throw new Error(`${path}: ${(free / 1e9).toFixed(1)} GB free, this step writes about ${(bytes / 1e9).toFixed(1)} GB`);
}

/** Peak resident set size of this process so far (the kernel's high-water mark). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/**
 * Bytes a conversion writes: the q4 language model with embed and head ≈ 4.9 GB; the vision tower,
 * conditioner and (with the diffusion part) transformer ≈ 0.68 + 0.90 + 2.24 B parameters at the
 * second dtype; the VAE graphs ≈ 0.4 GB.
 */
function outputBytes(dtypes: readonly Dtype[], diffusion: boolean): number {
  // Bytes per parameter; a dtype the family refuses fails in the converter before anything is written.
  const perParameter = (dtype: Dtype | undefined) => ({ fp32: 4, fp16: 2, q4: 0.64, q4f16: 0.6 })[dtype as 'fp32'] ?? 4;
  return 4.9e9 * (perParameter(dtypes[0]) / 0.64) + perParameter(dtypes[1]) * (1.58e9 + (diffusion ? 2.24e9 : 0)) + (diffusion ? 0.4e9 : 0);
}

async function convert(checkpoint: string, out: string, dtypes: readonly Dtype[]): Promise<void> {
  await requireFreeSpace(dirname(out), outputBytes(dtypes, existsSync(join(checkpoint, 'transformer'))));
  const started = Date.now();
  const result = await convertMetaqueryModel(checkpoint, out, { dtypes });
  const sizes = new Map(result.manifest.files.map((file) => [file.path, file.size]));
  const graphBytes = Object.fromEntries(
    Object.entries(result.manifest.graphs).flatMap(([graph, variants]) =>
      Object.entries(variants ?? {}).map(([d, v]) => [`${graph}.${d}`, [v.file, ...v.externalData].reduce((sum, p) => sum + (sizes.get(p) ?? 0), 0)]),
    ),
  );
  console.log(
    JSON.stringify(
      {
        seconds: (Date.now() - started) / 1000,
        peakRssBytes: peakRss(),
        totalBytes: result.manifest.files.reduce((sum, file) => sum + file.size, 0),
        graphBytes,
        buildSeconds: Object.fromEntries(result.graphs.map((g) => [`${g.graph}.${g.dtype}`, g.ms / 1000])),
        warnings: result.warnings,
      },
      null,
      2,
    ),
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dtype: { type: 'string' }, steps: { type: 'string' }, part: { type: 'string' }, 'low-memory': { type: 'boolean' } },
  });
  const [command, ...paths] = positionals;
  if (command === 'make' && paths.length === 1 && [undefined, 'vlm', 'diffusion'].includes(values.part)) {
    const vlm = values.part !== 'diffusion';
    const diffusion = values.part !== 'vlm';
    await requireFreeSpace(dirname(paths[0]), (vlm ? 18.5e9 : 0) + (diffusion ? 4.7e9 : 0));
    if (vlm) {
      const stats = await writeMqFullSizeCheckpoint(paths[0]);
      console.log(JSON.stringify({ part: 'vlm', ...stats, gib: stats.bytes / 2 ** 30, peakRssBytes: peakRss() }));
    }
    if (diffusion) {
      const started = Date.now();
      const parameters = await writeSd3DiffusionFolders(paths[0]);
      console.log(JSON.stringify({ part: 'diffusion', parameters, ms: Date.now() - started, peakRssBytes: peakRss() }));
    }
    return;
  }
  if (command === 'convert' && paths.length === 2) return convert(paths[0], paths[1], (values.dtype ?? 'q4').split(',') as Dtype[]);
  if (command === 'check' && paths.length === 1) {
    const report = await runMqFullSizeCheck(paths[0], Number(values.steps ?? 8));
    console.log(JSON.stringify({ ...report, peakRssBytes: peakRss() }, null, 2));
    return;
  }
  if (command === 'memory' && paths.length === 2 && ['understand', 'generate', 'edit'].includes(paths[1])) {
    const options = { lowMemory: values['low-memory'] ?? false, steps: Number(values.steps ?? 1) };
    console.log(JSON.stringify(await measureMqMemory(paths[0], paths[1] as MqMemoryTask, options), null, 2));
    return;
  }
  throw new Error(
    'usage: mq-full-size.ts make <checkpoint-dir> [--part vlm|diffusion] | convert <checkpoint-dir> <out-dir> [--dtype q4[,q4]] | check <out-dir> [--steps 8] | memory <out-dir> understand|generate|edit [--steps 1] [--low-memory]',
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
