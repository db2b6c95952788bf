import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Qwen2.5 tokenizer files shipped in the package's `assets/` folder. Found by walking up from
 * this module, because it sits at a different depth in the sources and in the bundle.
 */
export function bundledTokenizerDir(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, 'assets', 'qwen2.5-tokenizer');
    if (existsSync(join(candidate, 'vocab.json'))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) throw new Error('the bundled Qwen2.5 tokenizer (assets/qwen2.5-tokenizer) is missing from this installation');
    directory = parent;
  }
}
