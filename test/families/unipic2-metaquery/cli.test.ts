import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HANG_GUARD_MS } from '../../support/hang-guard.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('unipic make-tiny --family unipic2-metaquery / convert on a Metaquery folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mq-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('make-tiny then convert (VLM folder given with --vlm) writes the eight graphs', async () => {
    expect((await cli('make-tiny', join(dir, 'ckpt'), '--family', 'unipic2-metaquery', '--seed', '2')).code).toBe(0);
    const converted = await cli('convert', join(dir, 'ckpt'), join(dir, 'out'), '--vlm', join(dir, 'ckpt', 'Qwen2.5-VL-7B-Instruct'), '--dtype', 'fp32');
    expect(converted.code).toBe(0);
    const described = JSON.parse(readFileSync(join(dir, 'out', 'metaquery.json'), 'utf8'));
    for (const graph of ['vision', 'embed', 'llm', 'lm_head', 'conditioner', 'transformer', 'vae_encoder', 'vae_decoder'])
      expect(existsSync(join(dir, 'out', described.graphs[graph].file))).toBe(true);
    // Two CLI processes (tsx start-up, make-tiny, a whole conversion) on a shared 2-core machine.
  }, 240_000);

  it('generate on the converted folder takes the sampler options; --no-t5 does not apply', async () => {
    const png = join(dir, 'cat.png');
    const generated = await cli(
      'generate',
      '--model',
      join(dir, 'out'),
      '--prompt',
      'a cat',
      '--width',
      '32',
      '--height',
      '32',
      '--steps',
      '1',
      '--seed',
      '1',
      '--out',
      png,
    );
    expect(generated.stderr).toMatch(/seed 1, 32×32/);
    expect(generated.code).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    const refused = await cli('generate', '--model', join(dir, 'out'), '--prompt', 'a cat', '--no-t5', '--out', png);
    expect(refused.stderr).toMatch(/--no-t5 does not apply to UniPic2-Metaquery/);
  }, 240_000);

  it(
    'refuses options that do not apply and unknown families',
    async () => {
      expect((await cli('convert', join(dir, 'ckpt'), join(dir, 'x'), '--fused-sampler')).stderr).toMatch(/does not apply/);
      // --dtype is <llm>[,<vision/conditioner/transformer>]: one variant per graph.
      expect((await cli('convert', join(dir, 'ckpt'), join(dir, 'x'), '--dtype', 'q4,q4,fp32')).stderr).toMatch(/<llm>\[,<vision\/conditioner\/transformer>\]/);
      expect((await cli('make-tiny', join(dir, 'y'), '--family', 'nope')).code).toBe(2);
    },
    HANG_GUARD_MS,
  );
});
