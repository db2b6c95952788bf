/**
 * Child process of the memory section: loads a model, runs one task, prints one JSON line with
 * its peak resident set. A fresh process per measurement, so each peak is that task's alone.
 *
 *   tsx bench/lib/memory-probe.ts '{"model":"…","dtype":"q4","task":"generate","size":1024}'
 */
import { readFileSync } from 'node:fs';
import { UniPic } from '../../src/index.node.js';

interface ProbeRequest {
  readonly model: string;
  readonly dtype: 'fp32' | 'q4';
  readonly task: 'generate' | 'understand' | 'load';
  readonly size: number;
  readonly eager?: boolean;
}

function rssNow(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

function peakRss(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]) as ProbeRequest;
  const phases: Record<string, number> = {};
  const baseline = rssNow();
  let started = performance.now();
  const capabilities = request.task === 'load' ? undefined : [request.task];
  const model = await UniPic.load(request.model, { dtype: request.dtype, device: 'cpu', capabilities, eager: request.eager ?? false });
  phases.loadMs = performance.now() - started;
  const afterLoad = rssNow();
  let iterations = 0;
  if (request.task === 'generate') {
    started = performance.now();
    // Two MAR iterations, a VAE decode of the 1024 px latents (the preview after iteration 2), then stop.
    const run = model.generate({ prompt: 'a red bicycle leaning on a wall', size: request.size, steps: 64, preview: 2, seed: 1 });
    for await (const event of run) {
      if (event.type === 'step-finish') iterations++;
      if (event.type === 'image-preview') break;
    }
    await run.result.catch(() => undefined);
    phases.taskMs = performance.now() - started;
  } else if (request.task === 'understand') {
    started = performance.now();
    const side = request.size;
    const data = new Uint8Array(side * side * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const result = await model.understand({ image: { data, width: side, height: side, channels: 3 }, prompt: 'Describe the image.', maxTokens: 2, size: side }).result;
    phases.taskMs = performance.now() - started;
    phases.promptTokens = result.usage.promptTokens;
  }
  const peak = peakRss();
  await model.dispose();
  console.log(JSON.stringify({ baseline, afterLoad, peak, phases, iterations }));
}

await main();
