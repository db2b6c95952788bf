import { parse } from '../arguments.js';
import { formatBytes } from '../progress-bar.js';
import { loadWithProgress } from './load-model.js';

/** What a model folder holds and what this machine would run it on. */
export async function infoCommand(args: string[]): Promise<void> {
  const { positionals } = parse(args, {}, 1);
  const model = await loadWithProgress(positionals[0]);
  try {
    const { manifest } = model;
    const total = manifest.files.reduce((sum, f) => sum + f.size, 0);
    const info = {
      name: manifest.name,
      source: manifest.source,
      capabilities: model.capabilities,
      sizes: manifest.resolutions.map((r) => r.size),
      device: model.backendInfo.device,
      backend: model.backendInfo.name,
      dtypes: model.dtypes,
      files: `${manifest.files.length} (${formatBytes(total)})`,
      llm: manifest.config.llm,
      mar: manifest.config.mar,
      // What understand uses unless a call overrides it (docs/text.md#precedence).
      generation: manifest.generation ?? 'none stored: the SDK defaults (repetition penalty 1.1, temperature 0.7, top-k 20, top-p 0.8)',
    };
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  } finally {
    await model.dispose();
  }
}
