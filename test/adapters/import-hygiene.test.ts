import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SPECIFIER = /(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

interface ImportEdge {
  readonly file: string;
  readonly specifier: string;
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
}

/** Every import reachable from `entry` through relative imports (a regex walk; our sources are plain ESM). */
function importGraph(entry: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(SPECIFIER)) {
      const specifier = match[2] ?? match[3];
      const edge = { file, specifier, typeOnly: Boolean(match[1]), dynamic: match[3] !== undefined };
      edges.push(edge);
      if (specifier.startsWith('.') && !edge.typeOnly) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(resolve(root, entry));
  return edges;
}

describe('adapter import hygiene', () => {
  it('the web adapter reaches no onnxruntime-node and no node: module', () => {
    const edges = importGraph('adapters/web-ort/index.ts');
    expect(edges.length).toBeGreaterThan(10);
    const offending = edges.filter((edge) => !edge.typeOnly && (edge.specifier.startsWith('node:') || edge.specifier === 'onnxruntime-node'));
    expect(offending).toEqual([]);
  });

  it('ONNX Runtime packages are imported only dynamically (inside init), never statically', () => {
    for (const entry of ['adapters/node-ort/index.ts', 'adapters/web-ort/index.ts', 'src/testing/index.ts']) {
      const staticOrt = importGraph(entry).filter((edge) => edge.specifier.startsWith('onnxruntime-') && !edge.typeOnly && !edge.dynamic);
      expect(staticOrt, entry).toEqual([]);
    }
    const dynamic = importGraph('adapters/node-ort/index.ts')
      .filter((edge) => edge.dynamic)
      .map((edge) => edge.specifier);
    expect(dynamic).toContain('onnxruntime-node');
  });

  it('importing node-ort loads the native binding only at init()', () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((path) => path.includes('onnxruntime-node'));
      const { NodeOrtBackend } = await import(${JSON.stringify(resolve(root, 'adapters/node-ort/index.ts'))});
      const before = loaded();
      await new NodeOrtBackend().init({ device: 'cpu' });
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(output.trim().split('\n').at(-1) ?? '{}')).toEqual({ before: false, after: true });
  });
});
