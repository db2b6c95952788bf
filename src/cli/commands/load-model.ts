import { UniPic } from '../../index.node.js';
import type { LoadOptions } from '../../core/model/load-options.js';
import { createProgressBar, formatBytes } from '../progress-bar.js';

/** Load a model with a progress bar for downloads and cache reads; warnings go to stderr. */
export async function loadWithProgress(source: string, options: LoadOptions = {}): Promise<UniPic> {
  const bar = createProgressBar('load');
  try {
    const model = await UniPic.load(source, {
      ...options,
      onProgress: (event) => {
        if (event.phase === 'download' || event.phase === 'cache-read') {
          bar.update(event.loaded, event.total, `${event.phase} ${event.file} (${formatBytes(event.loaded)})`);
        }
      },
    });
    bar.stop();
    for (const warning of model.loadWarnings) {
      process.stderr.write(`warning: ${warning.message}\n`);
      // The reasons behind a device fallback are long (paths, install commands): on request only.
      const attempts = (warning as { attempts?: readonly { device: string; error: string }[] }).attempts;
      if (process.env.UNIPIC_DEBUG && attempts) for (const attempt of attempts) process.stderr.write(`  ${attempt.device}: ${attempt.error}\n`);
    }
    return model;
  } catch (error) {
    bar.stop();
    throw error;
  }
}
