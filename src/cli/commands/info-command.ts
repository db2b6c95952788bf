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
      family: `${manifest.family} (version ${manifest.familyVersion})`,
      source: manifest.source,
      capabilities: model.capabilities,
      // UniPic-1 folders list their output sizes; another family may have none.
      sizes: Array.isArray(manifest.resolutions) ? manifest.resolutions.map((r: { size: number }) => r.size) : undefined,
      device: model.backendInfo.device,
      backend: model.backendInfo.name,
      dtypes: model.dtypes,
      // How the llm graph keeps its KV cache (docs/model-format.md); folders without the field are concat.
      kvCache: manifest.graphs.llm ? (manifest.kvCache ?? 'concat') : undefined,
      // The in-place buffers' layout; in-place folders without the field have the first one.
      kvCacheLayout: manifest.kvCache === 'in-place' ? (manifest.kvCacheLayout ?? 'keys-transposed') : undefined,
      files: `${manifest.files.length} (${formatBytes(total)})`,
      config: model.config,
      // What understand uses unless a call overrides it (docs/text.md#precedence).
      generation:
        (manifest as { generation?: unknown }).generation ?? 'none stored: the SDK defaults (repetition penalty 1.1, temperature 0.7, top-k 20, top-p 0.8)',
    };
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  } finally {
    await model.dispose();
  }
}
