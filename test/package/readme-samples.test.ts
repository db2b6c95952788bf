import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORK = join(ROOT, 'test', '.artifacts', 'readme-samples');

/** The strictest settings in common use, on top of `strict`. */
const COMPILER_OPTIONS = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  noPropertyAccessFromIndexSignature: true,
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  lib: ['ES2022', 'DOM'],
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules', '@types')],
  noEmit: true,
  skipLibCheck: true,
};

function readmeTypeScriptSamples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

describe("the README's TypeScript samples", () => {
  it('compile against the built package types under noUncheckedIndexedAccess and exactOptionalPropertyTypes', async () => {
    expect(existsSync(join(ROOT, 'dist', 'node', 'index.d.ts')), 'dist/node/index.d.ts: run `npm run build` (npm test does)').toBe(true);
    const samples = readmeTypeScriptSamples();
    expect(samples.length).toBeGreaterThan(0);
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(join(WORK, 'node_modules'), { recursive: true });
    // An app that installed unipic: `import 'unipic'` resolves through package.json's exports.
    symlinkSync(ROOT, join(WORK, 'node_modules', 'unipic'), 'dir');
    writeFileSync(join(WORK, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }));
    const files = samples.map((sample, index) => {
      const file = `sample-${index + 1}.ts`;
      // Each sample is its own module (top-level await needs one).
      writeFileSync(join(WORK, file), `${sample}\nexport {};\n`);
      return file;
    });
    writeFileSync(join(WORK, 'tsconfig.json'), JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files }, null, 2));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [tsc, '-p', WORK], { cwd: WORK }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
      );
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
