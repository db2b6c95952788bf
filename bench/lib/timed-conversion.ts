import type { Manifest } from '../../src/spec/manifest.js';

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;
export const peakRss = () => process.resourceUsage().maxRSS * 1024;

export interface ConversionStep {
  step: string;
  seconds: number;
  peakRssBytes: number;
}

/**
 * Runs a conversion with a progress callback that closes one timed step per stage and item
 * (hashing, which reports every file, is one step), logging RSS as each ends.
 */
export async function timedConversion<Summary extends { manifest: Pick<Manifest, 'files' | 'graphs'> }>(
  run: (onProgress: (event: { stage: string; item?: string }) => void) => Promise<Summary>,
): Promise<{ summary: Summary; steps: ConversionStep[]; graphBytes: Record<string, number> }> {
  const started = Date.now();
  let stepStarted = started;
  let label = 'open';
  const steps: ConversionStep[] = [];
  const endStep = () => {
    const now = Date.now();
    steps.push({ step: label, seconds: (now - stepStarted) / 1000, peakRssBytes: peakRss() });
    console.log(`[${((now - started) / 1000).toFixed(1).padStart(7)} s] rss ${gib(process.memoryUsage().rss)} peak ${gib(peakRss())}  done: ${label}`);
    stepStarted = now;
  };
  const summary = await run((event) => {
    const next = event.stage === 'hash' ? 'hash' : `${event.stage} ${event.item}`;
    if (next === label) return;
    endStep();
    label = next;
  });
  endStep();
  return { summary, steps, graphBytes: graphBytes(summary.manifest) };
}

/** Bytes on disk of every graph variant (its file and external data). */
function graphBytes(manifest: Pick<Manifest, 'files' | 'graphs'>): Record<string, number> {
  const sizes = new Map(manifest.files.map((file) => [file.path, file.size]));
  const bytes: Record<string, number> = {};
  for (const [graph, variants] of Object.entries(manifest.graphs)) {
    for (const [dtype, variant] of Object.entries(variants ?? {})) {
      if (variant) bytes[`${graph}.${dtype}`] = [variant.file, ...variant.externalData].reduce((sum, path) => sum + (sizes.get(path) ?? 0), 0);
    }
  }
  return bytes;
}
