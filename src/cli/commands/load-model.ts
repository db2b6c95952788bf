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
    for (const warning of model.loadWarnings) process.stderr.write(describeWarning(warning));
    return model;
  } catch (error) {
    bar.stop();
    throw error;
  }
}

type LoadWarning = UniPic['loadWarnings'][number] & { readonly device?: string; readonly attempts?: readonly { device: string; error: string }[] };

/**
 * One line per warning. A device fallback names the devices it skipped; why (a CUDA diagnosis
 * alone is ~600 characters of paths and install commands) only with UNIPIC_DEBUG=1.
 */
function describeWarning(warning: LoadWarning): string {
  if (warning.code !== 'device-fallback' || !warning.attempts) return `warning: ${warning.message}\n`;
  const skipped = warning.attempts.map((attempt) => attempt.device).join(', ');
  if (!process.env.UNIPIC_DEBUG) return `warning: using ${warning.device} (${skipped} unavailable here; UNIPIC_DEBUG=1 prints why)\n`;
  const reasons = warning.attempts.map((attempt) => `  ${attempt.device}: ${attempt.error}\n`).join('');
  return `warning: using ${warning.device} (${skipped} unavailable here):\n${reasons}`;
}
