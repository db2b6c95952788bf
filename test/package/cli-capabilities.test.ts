import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyModelDir } from '../support/tiny-model.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'cli.js');
const OUT = join(ROOT, 'test', '.artifacts', 'cli');

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

let model: string;
beforeAll(async () => {
  model = await tinyModelDir();
  rmSync(OUT, { recursive: true, force: true });
}, 180_000);

describe('the unipic CLI (built)', () => {
  it('generate writes a PNG per image and prints the paths', async () => {
    const out = join(OUT, 'gen.png');
    const result = await cli(
      'generate',
      '--model',
      model,
      '--prompt',
      'a boat',
      '--out',
      out,
      '--size',
      '64',
      '--steps',
      '2',
      '--diffusion-steps',
      '5',
      '--seed',
      '3',
      '--num-images',
      '2',
      '--dtype',
      'fp32',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([join(OUT, 'gen-1.png'), join(OUT, 'gen-2.png')]);
    for (const file of ['gen-1.png', 'gen-2.png']) expect(Array.from(readFileSync(join(OUT, file)).subarray(0, 4))).toEqual([137, 80, 78, 71]);
    expect(result.stderr).toContain('seed 3');
  }, 120_000);

  it('edit writes the edited image', async () => {
    const source = join(OUT, 'gen-1.png');
    const out = join(OUT, 'edited.png');
    const result = await cli(
      'edit',
      '--model',
      model,
      '--image',
      source,
      '--prompt',
      'make it blue',
      '--out',
      out,
      '--size',
      '64',
      '--steps',
      '2',
      '--diffusion-steps',
      '5',
      '--dtype',
      'fp32',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  }, 120_000);

  it('understand streams the answer to stdout and the stats to stderr', async () => {
    const result = await cli(
      'understand',
      '--model',
      model,
      '--image',
      join(OUT, 'gen-1.png'),
      '--prompt',
      'What is this?',
      '--max-tokens',
      '4',
      '--size',
      '64',
      '--dtype',
      'fp32',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(/\d+ tokens, [\d.]+ tok\/s/);
  }, 120_000);

  it('exits 2 with the usage on a bad command line, 1 with the error code on a bad model', async () => {
    const usage = await cli('generate', '--model', model);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--prompt is required');
    const missing = await cli('info', join(OUT, 'no-such-model'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\[MODEL_NOT_FOUND\]/);
    const unknown = await cli('paint');
    expect(unknown.code).toBe(2);
  }, 60_000);
});
