import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryFolder } from '../convert/readers/support/checkpoint-test-helpers.js';
import { tinyCheckpointDir, tinyModelDir } from '../support/tiny-model.js';

// What a new user meets in the CLI (issue #14): help per command, range errors, the demo saying
// where its model is, quiet loads, and the two "wrong folder" mistakes.
const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const environment = { ...process.env, UNIPIC_DEBUG: '', ...env };
    // node --import tsx: the CLI from source without npx's start-up (half the time per run).
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: environment, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let folder: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  folder = await temporaryFolder();
});
afterAll(async () => {
  await folder.remove();
});

describe('unipic <command> --help', () => {
  it('prints the command options with defaults and ranges, exit 0', async () => {
    const run = await runCli(['generate', '--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^unipic generate --model <m>/);
    expect(run.stdout).toContain('--steps <n>            MAR iterations; default 32; a whole number from 1 to 256');
    expect(run.stdout).toContain('--seed <n>             default: random (printed); a whole number from 0 to 2147483647');
    const [understand, convert] = await Promise.all([runCli(['understand', '--help']), runCli(['convert', '-h'])]);
    expect(understand.stdout).toContain('--max-tokens <n>       default 1024; a whole number from 1 to 32768');
    expect(convert.code).toBe(0);
    expect(convert.stdout).toMatch(/^unipic convert <checkpoint-dir> <out-dir>/);
    expect(convert.stdout).toContain("removes that\nconversion's files the new unipic.json no longer lists (other files are left alone)");
  });

  it('negative numbers and out-of-range values: one range error, before any model loads, exit 2', async () => {
    const [negative, seed, unknown, dashValue] = await Promise.all([
      runCli(['generate', '--model', 'nowhere', '--prompt', 'x', '--out', 'x.png', '--steps', '-5']),
      runCli(['understand', '--model', 'nowhere', '--image', 'x.png', '--seed', '1e20']),
      runCli(['generate', '--bogus']),
      runCli(['generate', '--model', 'nowhere', '--prompt', '-blurry', '--out', 'x.png']),
    ]);
    expect(negative.code).toBe(2);
    expect(negative.stderr.split('\n')[0]).toBe('unipic generate: --steps must be a whole number from 1 to 256, got -5');
    expect(seed.code).toBe(2);
    expect(seed.stderr.split('\n')[0]).toBe('unipic understand: --seed must be a whole number from 0 to 2147483647, got 1e20');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe('unipic generate: Unknown option --bogus');
    expect(dashValue.code).toBe(2);
    expect(dashValue.stderr.split('\n')[0]).toBe('unipic generate: the value of --prompt starts with "-": write it as --prompt=<value>');
  });
});

describe('unipic demo', () => {
  it('says where its converted model is, and a CPU-only load prints one short line', async () => {
    const dir = join(folder.path, 'demo');
    // The demo reuses a converted model in <dir>/model; the shared tiny model saves building one.
    await cp(await tinyModelDir(['fp32']), join(dir, 'model'), { recursive: true });
    const run = await runCli(['demo', '--dir', dir, '--out', join(dir, 'demo.png')]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(join(dir, 'demo.png'));
    expect(run.stderr).toContain(`the converted tiny model is in ${join(dir, 'model')}`);
    // No Dawn or Vulkan complaints, no CUDA install instructions: at most one short fallback line.
    expect(run.stderr).not.toMatch(/XDG_RUNTIME_DIR|Vulkan|onnxruntime_src|napi-v6|nuget/i);
    for (const line of run.stderr.split('\n').filter((l) => l.startsWith('warning:'))) expect(line.length).toBeLessThan(160);
    expect(run.stderr.split('\n').filter((l) => l.includes('device') || l.startsWith('warning: node-ort')).length).toBeLessThanOrEqual(1);
  });

  it('UNIPIC_DEBUG=1 adds why each device was skipped', async () => {
    const model = await tinyModelDir(['fp32']);
    const [quiet, debug] = await Promise.all([runCli(['info', model]), runCli(['info', model], { UNIPIC_DEBUG: '1' })]);
    expect(quiet.code).toBe(0);
    expect(debug.code).toBe(0);
    const fallback = quiet.stderr.split('\n').filter((line) => line.startsWith('warning: using'));
    // On a machine where auto's first device works there is no fallback to report.
    if (fallback.length > 0) {
      expect(fallback).toHaveLength(1);
      const [, device, skipped] = /^warning: using (\w+) \(([\w, ]+) unavailable here; UNIPIC_DEBUG=1 prints why\)$/.exec(fallback[0] ?? '') ?? [];
      expect(device).toBeDefined();
      expect(debug.stderr).toContain(`warning: using ${device} (${skipped} unavailable here):\n`);
      for (const skippedDevice of (skipped ?? '').split(', ')) expect(debug.stderr).toMatch(new RegExp(`\n  ${skippedDevice}: \\S`));
    }
  });
});

describe('the wrong folder', () => {
  it('loading an unconverted checkpoint says to run unipic convert', async () => {
    const checkpoint = await tinyCheckpointDir();
    const run = await runCli(['info', checkpoint]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `unipic info: ${checkpoint} is an unconverted checkpoint (it has kl16.ckpt, pytorch_model.bin), not a model folder: ` +
        `convert it first with \`npx unipic convert ${checkpoint} <out-dir>\`, then load <out-dir> [MODEL_NOT_FOUND]`,
    );
  });

  it('converting an already converted folder says so and how to load it', async () => {
    const model = await tinyModelDir(['fp32']);
    const run = await runCli(['convert', model, join(folder.path, 'again')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`${model} is already a converted model (it has unipic.json): load it with UniPic.load('${model}')`);
    expect(existsSync(join(folder.path, 'again'))).toBe(false);
  });
});

describe('converting into a folder that holds an earlier conversion', () => {
  it('removes the files only the old unipic.json listed, keeps the user files, and says so', async () => {
    const checkpoint = await tinyCheckpointDir();
    const out = join(folder.path, 'reconvert');
    await cp(await tinyModelDir(['fp32', 'q4']), out, { recursive: true });
    await writeFile(join(out, 'notes.txt'), 'mine');
    const before = JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8')) as { files: { path: string }[] };
    const q4Files = before.files.map((file) => file.path).filter((path) => path.includes('.q4.'));
    expect(q4Files.length).toBeGreaterThan(0);

    const run = await runCli(['convert', checkpoint, out, '--dtype', 'fp32', '--resolutions', '64']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /removed \d+ file\(s\) of the previous conversion in .* that the new unipic\.json does not list .*; files it never listed were left alone/,
    );
    for (const path of q4Files) expect(existsSync(join(out, path)), path).toBe(false);
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    const after = JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8')) as { files: { path: string }[] };
    for (const file of after.files) expect(existsSync(join(out, file.path)), file.path).toBe(true);
  });
});
