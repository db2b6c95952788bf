import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unipic1ManifestSchema as manifestSchema } from '../../src/families/unipic1/manifest.js';
import { GRAPH_NAMES } from '../../src/families/unipic1/manifest.js';
import { temporaryFolder } from '../convert/readers/support/checkpoint-test-helpers.js';
import { tinyCheckpointDir } from '../support/tiny-model.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';

// `unipic convert` as a user runs it: a child process through `npx tsx src/cli/main.ts`, judged
// by its exit code, stdout (the size summary) and stderr (progress bar, one-line errors).
const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let tiny: string;
let folder: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  tiny = await tinyCheckpointDir();
  folder = await temporaryFolder();
});
afterAll(async () => {
  await folder.remove();
});

describe('unipic convert', () => {
  it('converts the tiny checkpoint, prints the size of every graph and a total, exit 0', async () => {
    const out = join(folder.path, 'model');
    const report = join(folder.path, 'report.json');
    const run = await runCli(['convert', tiny, out, '--dtype', 'fp32,q4', '--resolutions', '64,128', '--fused-sampler', '--report', report]);
    expect(run.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(run.code).toBe(0);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8')));
    expect(manifest.resolutions.map((r) => r.size)).toEqual([64, 128]);
    expect(manifest.kvCache).toBe('in-place');
    expect(manifest.kvCacheLayout).toBe('values-transposed');

    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^graph\s+dtype\s+size$/);
    const rows = lines.slice(1, -1).map((line) => line.trim().split(/\s+/));
    expect(rows.map(([graph, dtype]) => `${graph}.${dtype}`).sort()).toEqual(GRAPH_NAMES.flatMap((g) => [`${g}.fp32`, `${g}.q4`]).sort());
    // Each printed size is the graph file plus its external data, as on disk.
    for (const [graph, dtype, value, unit] of rows as [string, string, string, 'B' | 'KiB' | 'MiB' | 'GiB'][]) {
      const variant = manifest.graphs[graph as (typeof GRAPH_NAMES)[number]]![dtype as 'fp32' | 'q4']!;
      let bytes = 0;
      for (const path of [variant.file, ...variant.externalData]) bytes += (await stat(join(out, path))).size;
      const scale = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[unit];
      expect(scale, `unit of ${graph} ${dtype}`).toBeDefined();
      // Sizes print with one decimal (bytes exactly): within 0.05 of the unit.
      expect(Math.abs(Number(value) - bytes / scale!), `${graph} ${dtype}`).toBeLessThanOrEqual(unit === 'B' ? 0 : 0.05 + 1e-9);
    }
    const written = JSON.parse(await readFile(report, 'utf8')) as { keys: { ignored: { why: string }[] }; config: { ignored: { why: string }[] } };
    expect(written.keys.ignored).toHaveLength(5);
    for (const entry of [...written.keys.ignored, ...written.config.ignored]) expect(entry.why.length).toBeGreaterThan(5);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^${manifest.files.length} files, [\\d.]+ (KiB|MiB|GiB) in ${out.replaceAll('/', '\\/')} \\([\\d.]+ s\\); 5 checkpoint keys and ${written.config.ignored.length} config fields knowingly ignored \\(reasons in ${report.replaceAll('/', '\\/')}\\)$`,
      ),
    );
  });

  it.runIf(existsSync('/usr/bin/script'))('draws a progress bar on a terminal (stderr), never on stdout', async () => {
    const out = join(folder.path, 'model-tty');
    // util-linux `script` gives the child a pseudo-terminal, as an interactive shell would.
    const command = `cd ${ROOT} && npx tsx src/cli/main.ts convert ${tiny} ${out} --resolutions 64 2>&1 1>/dev/null`;
    const run = await new Promise<Run>((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/convert \[[█░]+\] 100% \| \d+\/\d+ hash unipic\.json/);
    expect(run.stdout).not.toMatch(/^graph\s+dtype/m);
  });

  it('a truncated checkpoint: exit 1 and one line naming the file and the error code, no stack', async () => {
    const checkpoint = join(folder.path, 'truncated');
    await cp(tiny, checkpoint, { recursive: true });
    const file = join(checkpoint, 'pytorch_model.bin');
    await truncate(file, Math.floor((await stat(file)).size / 2));
    const run = await runCli(['convert', checkpoint, join(folder.path, 'never')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^unipic convert: .*pytorch_model\.bin.* \[INVALID_MODEL\]$/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
    expect(existsSync(join(folder.path, 'never'))).toBe(false);
  });

  it('a missing checkpoint folder: exit 1 with MODEL_NOT_FOUND', async () => {
    const run = await runCli(['convert', join(folder.path, 'nothing-here'), join(folder.path, 'never')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^unipic convert: checkpoint path .*nothing-here does not exist \[MODEL_NOT_FOUND\]$/);
  });

  it('--kv-cache concat writes the concat llm graph (for GPUs) and says so in unipic.json', async () => {
    const out = join(folder.path, 'model-concat');
    const run = await runCli(['convert', tiny, out, '--resolutions', '64', '--kv-cache', 'concat']);
    expect(run.code).toBe(0);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8')));
    expect(manifest.kvCache).toBe('concat');
  });

  it(
    'usage mistakes: exit 2 with the reason and the help text',
    async () => {
      const badKv = await runCli(['convert', tiny, join(folder.path, 'never'), '--kv-cache', 'ring']);
      expect(badKv.code).toBe(2);
      expect(badKv.stderr).toMatch(/^unipic convert: --kv-cache must be concat or in-place, got "ring"/);
      const badDtype = await runCli(['convert', tiny, join(folder.path, 'never'), '--dtype', 'int8']);
      expect(badDtype.code).toBe(2);
      expect(badDtype.stderr).toMatch(/^unipic convert: --dtype must be among fp32, fp16, q4, q4f16, q8, got "int8"/);
      expect(badDtype.stderr).toMatch(/unipic convert <checkpoint-dir> <out-dir>/);
      const missingOut = await runCli(['convert', tiny]);
      expect(missingOut.code).toBe(2);
      expect(missingOut.stderr).toMatch(/expected 2 positional argument\(s\), got 1/);
      const badSize = await runCli(['convert', tiny, join(folder.path, 'never'), '--resolutions', '64,abc']);
      expect(badSize.code).toBe(2);
      expect(badSize.stderr).toMatch(/--resolutions must be a number, got "abc"/);
    },
    HANG_GUARD_MS,
  );

  it('a resolution the model cannot make: exit 1 with INVALID_OPTIONS, before converting', async () => {
    const run = await runCli(['convert', tiny, join(folder.path, 'never'), '--resolutions', '100']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^unipic convert: resolution 100 is not a multiple of the VAE stride 16 \[INVALID_OPTIONS\]$/);
    expect(existsSync(join(folder.path, 'never'))).toBe(false);
  });
});
