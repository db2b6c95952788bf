import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A hash of the TypeScript sources under `paths` (relative to the repository root): cached
 * benchmark models carry it in their stamp, so a change to the code that builds them rebuilds them.
 */
export function sourceFingerprint(paths: readonly string[]): string {
  const hash = createHash('sha1');
  const visit = (path: string) => {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    } else if (path.endsWith('.ts') || path.endsWith('.json')) {
      hash.update(relative(ROOT, path)).update(readFileSync(path));
    }
  };
  for (const path of paths) visit(join(ROOT, path));
  return hash.digest('hex').slice(0, 16);
}

/** What the decoder-only benchmark graphs are built from. */
export const LLM_GRAPH_SOURCES = ['src/convert/graphs/llm', 'src/convert/graphs/layers', 'src/convert/quantize', 'src/convert/onnx'];
/** Everything the converter uses. */
export const CONVERTER_SOURCES = ['src/convert'];
