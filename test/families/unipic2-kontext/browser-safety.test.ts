import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const SPECIFIER = /(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every non-type import reachable from `entry` through relative imports. */
function reachable(entry: string): { file: string; specifier: string }[] {
  const edges: { file: string; specifier: string }[] = [];
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      if (match[1]) continue;
      const specifier = match[2] ?? match[3];
      edges.push({ file: file.slice(ROOT.length + 1), specifier });
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(resolve(ROOT, entry));
  return edges;
}

describe('Kontext runtime is browser-safe', () => {
  it('the runtime half (runtime.ts) reaches no node: module, no converter code and no ONNX Runtime package', () => {
    const edges = reachable('src/families/unipic2-kontext/runtime.ts');
    expect(edges.length).toBeGreaterThan(20);
    // src/core/image/node-access.ts is the image module's lazy Node bridge (specifiers in variables,
    // only reached in Node), shared with UniPic-1's browser build; its type-level imports match here.
    const offending = edges.filter(
      (e) =>
        (e.file !== 'src/core/image/node-access.ts' && e.specifier.startsWith('node:')) ||
        e.specifier.startsWith('onnxruntime') ||
        e.specifier.includes('/convert/') ||
        e.file.includes('/convert/'),
    );
    expect(offending).toEqual([]);
  });
});
