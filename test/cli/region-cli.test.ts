import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../src/core/image/encode-png.js';
import { loadImage } from '../../src/core/image/load-image.js';
import { temporaryFolder } from '../convert/readers/support/checkpoint-test-helpers.js';
import { referenceModelDir } from '../support/reference.js';

// Region flags of `unipic edit` / `unipic generate` as a user runs them (child process through tsx).
const ROOT = join(import.meta.dirname, '..', '..');

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function rgba(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Uint8ClampedArray {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([...pixel(x, y), 255], (y * width + x) * 4);
  }
  return data;
}

let model: string;
let folder: { path: string; remove: () => Promise<void> };
let input: string;
let source: Uint8ClampedArray;
beforeAll(async () => {
  model = await referenceModelDir();
  folder = await temporaryFolder();
  input = join(folder.path, 'in.png');
  source = rgba(64, 64, (x, y) => [x * 4, y * 4, (x * y) & 255]);
  await writeFile(input, encodePng(source, 64, 64));
}, 120_000);
afterAll(async () => {
  await folder.remove();
});

describe('unipic region flags', () => {
  it('edit --mask: the unmasked half is the source (with --feather 0)', async () => {
    const mask = join(folder.path, 'mask.png');
    await writeFile(
      mask,
      encodePng(
        rgba(32, 32, (x) => (x >= 16 ? [255, 255, 255] : [0, 0, 0])),
        32,
        32,
      ),
    );
    const out = join(folder.path, 'edit.png');
    const run = await runCli([
      'edit',
      '--model',
      model,
      '--image',
      input,
      '--mask',
      mask,
      '--prompt',
      'x',
      '--out',
      out,
      '--size',
      '64',
      '--steps',
      '2',
      '--feather',
      '0',
      '--seed',
      '1',
      '--device',
      'cpu',
    ]);
    expect(run.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(run.code).toBe(0);
    const image = await loadImage(new Uint8Array(await readFile(out)));
    expect([image.width, image.height]).toEqual([64, 64]);
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) expect(image.data[(y * 64 + x) * 3 + c]).toBe(source[(y * 64 + x) * 4 + c]);
  }, 120_000);

  it('generate --image --outpaint right:32: a 96×64 canvas, cropped back out of the 64-px square', async () => {
    const out = join(folder.path, 'outpaint.png');
    const run = await runCli([
      'generate',
      '--model',
      model,
      '--image',
      input,
      '--outpaint',
      'right:32',
      '--prompt',
      'x',
      '--out',
      out,
      '--size',
      '64',
      '--steps',
      '2',
      '--seed',
      '1',
      '--device',
      'cpu',
    ]);
    expect(run.code).toBe(0);
    const image = await loadImage(new Uint8Array(await readFile(out)));
    expect([image.width, image.height]).toEqual([64, 43]);
  }, 120_000);

  it('a bad --outpaint is one line naming the flag, exit 1', async () => {
    const run = await runCli(['generate', '--model', model, '--image', input, '--outpaint', 'up:32', '--prompt', 'x', '--out', join(folder.path, 'x.png')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^unipic generate: --outpaint: cannot read "up:32".*\[INVALID_OPTIONS\]$/);
  }, 120_000);
});
