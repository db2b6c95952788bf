import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tinyModelDir } from '../support/tiny-model.js';

// `npm test` builds first (pretest: tsup); these tests check the build, not the sources.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dist = (...parts: string[]) => join(ROOT, 'dist', ...parts);

function browserFiles(): string[] {
  return readdirSync(dist('browser'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => dist('browser', f));
}

describe('the built package', () => {
  it('exists (run `npm run build` or `npm test`)', () => {
    for (const file of ['node/index.js', 'node/index.d.ts', 'node/convert.js', 'node/test.js', 'browser/index.js', 'browser/worker.js', 'cli/cli.js']) {
      expect(existsSync(dist(file)), file).toBe(true);
    }
  });

  it('has no reference to onnxruntime-node and no static node: import in the browser build', () => {
    for (const file of browserFiles()) {
      const code = readFileSync(file, 'utf8');
      expect(code.includes('onnxruntime-node'), file).toBe(false);
      expect(/from\s*["']node:|require\(["']node:/.test(code), file).toBe(false);
    }
  });

  it('passes publint and @arethetypeswrong/cli (ESM profile)', () => {
    expect(() => execFileSync('npx', ['publint'], { cwd: ROOT, stdio: 'pipe' })).not.toThrow();
    // The tarball of the build under test, packed without `prepack`: `attw --pack .` would run it,
    // and its tsup rebuild empties dist/ for seconds while other test files read it.
    const packed = mkdtempSync(join(tmpdir(), 'unipic-pack-'));
    try {
      const [{ filename }] = JSON.parse(
        execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packed], {
          cwd: ROOT,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      ) as { filename: string }[];
      expect(() => execFileSync('npx', ['attw', join(packed, filename), '--profile', 'esm-only'], { cwd: ROOT, stdio: 'pipe' })).not.toThrow();
    } finally {
      rmSync(packed, { recursive: true, force: true });
    }
  }, 240_000);

  it('exports the documented API from each entry point', async () => {
    const shared = [
      'UniPicError',
      'InvalidOptionsError',
      'AbortError',
      'BackendUnavailableError',
      'BackendNotInstalledError',
      'UnsupportedDeviceError',
      'IntegrityError',
      'ModelNotFoundError',
      'NumericError',
      'StructureNeededError',
      'Run',
      'SeededRandom',
      'loadImage',
      'crop2square',
      'expand2square',
      'resizeLikePillow',
      'encodePng',
      'toBlob',
      'WebOrtBackend',
      'BACKEND_SPECIFICATION_VERSION',
    ];
    const node = await import(pathToFileURL(dist('node', 'index.js')).href);
    for (const name of [...shared, 'UniPic', 'NodeOrtBackend']) expect(node[name], `unipic (node): ${name}`).toBeDefined();
    const browser = await import(pathToFileURL(dist('browser', 'index.js')).href);
    for (const name of [...shared, 'UniPic', 'CacheApiCache', 'probeBrowser', 'estimateStorage']) expect(browser[name], `unipic (browser): ${name}`).toBeDefined();
    expect(browser.NodeOrtBackend).toBeUndefined();
    const convert = await import(pathToFileURL(dist('node', 'convert.js')).href);
    for (const name of ['convertCheckpoint', 'makeTinyCheckpoint', 'UNIPIC_1_5B', 'accountKeys', 'inspectCheckpoint'])
      expect(convert[name], `unipic/convert: ${name}`).toBeDefined();
    const testing = await import(pathToFileURL(dist('node', 'test.js')).href);
    expect(testing.MockBackend).toBeDefined();
    const worker = await import(pathToFileURL(dist('browser', 'worker.js')).href);
    for (const name of ['createWorkerModel', 'exposeUniPic', 'serveModel']) expect(worker[name], `unipic/worker: ${name}`).toBeDefined();
  });

  it('generates an image through dist/node (the built Node entry)', async () => {
    const { UniPic } = (await import(pathToFileURL(dist('node', 'index.js')).href)) as typeof import('../../src/index.node.js');
    const model = await UniPic.load(await tinyModelDir(), { dtype: 'fp32', device: 'cpu' });
    try {
      const result = await model.generate({ prompt: 'a boat', size: 64, steps: 2, diffusionSteps: 5, seed: 1 }).result;
      expect(result.images[0].toPNG().length).toBeGreaterThan(100);
    } finally {
      await model.dispose();
    }
  }, 120_000);

  it('runs the CLI demo end to end and writes a PNG', () => {
    const out = join(ROOT, 'test', '.artifacts', 'cli-demo.png');
    const printed = execFileSync('node', [dist('cli', 'cli.js'), 'demo', '--dir', join(ROOT, 'test', '.artifacts', 'cli-demo'), '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(printed.trim().split('\n').at(-1)).toBe(out);
    expect(Array.from(readFileSync(out).subarray(0, 4))).toEqual([137, 80, 78, 71]);
  }, 180_000);
});
