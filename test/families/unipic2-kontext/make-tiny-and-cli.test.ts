import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { isKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/kontext-checkpoint.js';
import { makeTinyKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/tiny-kontext.js';
import { UniPic } from '../../../src/index.node.js';
import { freshDir, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SOURCE_IMAGE = join(ROOT, 'test/fixtures/images/sources/rgb-300x200.png');

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('make-tiny for unipic2-kontext', () => {
  it('writes the published layout (same files as the oracle checkpoint), which converts and generates', async () => {
    const dir = join(freshDir('tiny'), 'checkpoint');
    await makeTinyKontextCheckpoint(dir, { seed: 5 });
    expect(await isKontextCheckpoint(dir)).toBe(true);
    for (const folder of readdirSync(TINY_CHECKPOINT)) {
      const theirs = existsSync(join(TINY_CHECKPOINT, folder)) && !folder.endsWith('.json') ? readdirSync(join(TINY_CHECKPOINT, folder)) : [];
      for (const file of theirs.filter((f) => !['special_tokens_map.json'].includes(f))) expect(existsSync(join(dir, folder, file))).toBe(true);
    }
    const out = freshDir('tiny-model');
    const summary = await convertKontextCheckpoint(dir, out, { dtypes: ['fp32'] });
    expect(summary.manifest.config.transformer.positionTable.rounding).toBe('bfloat16');
    const model = await UniPic.load(out, { family: 'unipic2-kontext', device: 'cpu', dtype: 'fp32', threads: 1 });
    try {
      const result = await model.generate({ prompt: 'a cat!', width: 48, height: 32, steps: 2, seed: 1 }).result;
      expect([result.images[0].width, result.images[0].height]).toEqual([48, 32]);
      expect(result.latent.data.every(Number.isFinite)).toBe(true);
      // The family's default sizes (script defaults: 384×512; editing: longer edge 512) fit its position table.
      const byDefault = await model.generate({ prompt: 'a cat!', steps: 1, seed: 1 }).result;
      expect([byDefault.images[0].width, byDefault.images[0].height]).toEqual([384, 512]);
      expect(byDefault.latent.data.every(Number.isFinite)).toBe(true);
      const edited = await model.edit({ image: SOURCE_IMAGE, prompt: 'purple', steps: 1, seed: 1 }).result;
      expect([edited.images[0].width, edited.images[0].height]).toEqual([512, 352]);
      expect(edited.latent.data.every(Number.isFinite)).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it('the CLI chain: make-tiny --family, convert (detected), generate and edit', async () => {
    const dir = freshDir('cli');
    expect((await runCli(['make-tiny', join(dir, 'ckpt'), '--family', 'unipic2-kontext'])).code).toBe(0);
    const converted = await runCli(['convert', join(dir, 'ckpt'), join(dir, 'model')]);
    expect(converted.code).toBe(0);
    expect(converted.stdout).toMatch(/^transformer\s+fp32/m);
    const generated = await runCli([
      'generate',
      '--model',
      join(dir, 'model'),
      '--prompt',
      'a fox',
      '--width',
      '32',
      '--height',
      '32',
      '--steps',
      '2',
      '--seed',
      '3',
      '--device',
      'cpu',
      '--out',
      join(dir, 'g.png'),
    ]);
    expect(generated.code).toBe(0);
    expect(readFileSync(join(dir, 'g.png')).subarray(1, 4).toString()).toBe('PNG');
    const edited = await runCli([
      'edit',
      '--model',
      join(dir, 'model'),
      '--image',
      'test/fixtures/images/sources/rgb-300x200.png',
      '--longer-edge',
      '64',
      '--prompt',
      'purple',
      '--steps',
      '1',
      '--device',
      'cpu',
      '--out',
      join(dir, 'e.png'),
    ]);
    expect(edited.code).toBe(0);
    expect(edited.stderr).toMatch(/64×32/);
    // Four child processes (tsx start-up each): generous for a loaded machine; about 25 s when idle.
  }, 240_000);

  it('unipic demo --family unipic2-kontext builds, converts and generates, and says where the model is', async () => {
    const dir = join(freshDir('demo'), 'demo');
    const run = await runCli(['demo', '--family', 'unipic2-kontext', '--dir', dir, '--out', join(dir, 'demo.png')]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(join(dir, 'demo.png'));
    expect(readFileSync(join(dir, 'demo.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(JSON.parse(readFileSync(join(dir, 'model', 'unipic.json'), 'utf8')).family).toBe('unipic2-kontext');
    expect(run.stderr).toContain(`the converted tiny model is in ${join(dir, 'model')}`);
    const wrong = await runCli(['demo', '--family', 'unipic3', '--dir', dir]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/--family must be unipic1 or unipic2-kontext, got "unipic3"/);
  }, 240_000);
});
