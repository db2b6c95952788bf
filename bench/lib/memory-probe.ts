/**
 * Child process of the memory section: loads a model, runs one task, prints one JSON line with
 * its peak resident set. A fresh process per measurement, so each peak is that task's alone.
 *
 *   tsx bench/lib/memory-probe.ts '{"model":"…","dtype":"q4","task":"generate","size":1024}'
 */
import { readFileSync } from 'node:fs';
import { UniPic } from '../../src/index.node.js';
import { SessionOptionsBackend } from './session-options-backend.js';
import { decodeOnce, encodeOnce, type VaeDecodeRequest } from './vae-probe.js';

interface ProbeRequest {
  readonly model: string;
  readonly dtype: 'fp32' | 'q4';
  readonly task: 'generate' | 'understand' | 'load' | 'mar-decoder' | 'vae-decoder';
  readonly size: number;
  readonly eager?: boolean;
  /** false: ORT's CPU memory arena off for every session (allocations go back after each run). */
  readonly arena?: boolean;
  /** mar-decoder: the graph file, and the MAR/LLM widths it was built with. */
  readonly graph?: { path: string; width: number; hidden: number; buffers: number; grid: number };
  /** vae-decoder: one decode (or, with `part: 'encoder'`, one encode) of the full-width VAE, one-shot or in strips. */
  readonly vae?: VaeDecodeRequest;
}

function rssNow(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

function peakRss(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** One mar_decoder run at the first iteration of a `grid`² generation with guidance (2 rows, nothing known). */
async function marDecoderProbe(graph: NonNullable<ProbeRequest['graph']>): Promise<Record<string, number>> {
  const ort = await import('onnxruntime-node');
  const started = performance.now();
  const session = await ort.InferenceSession.create(graph.path);
  const loadMs = performance.now() - started;
  const rows = 2;
  const n = graph.grid * graph.grid;
  const f32 = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.01), dims);
  const scatter = BigInt64Array.from({ length: rows * graph.buffers }, (_, i) => BigInt(i % graph.buffers));
  const feeds = {
    x_enc: f32([rows, graph.buffers, graph.width]),
    llm_out: f32([rows, graph.buffers, graph.hidden]),
    scatter_idx: new ort.Tensor('int64', scatter, [rows, graph.buffers]),
    fill: f32([rows, graph.buffers + n, graph.width]),
    decoder_pos: f32([1, graph.buffers + n, graph.width]),
    diffusion_pos: f32([1, n, graph.width]),
  };
  const run = performance.now();
  await session.run(feeds);
  const taskMs = performance.now() - run;
  await session.release();
  return { loadMs, taskMs };
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]) as ProbeRequest;
  if (request.task === 'mar-decoder') {
    const phases = await marDecoderProbe(request.graph!);
    console.log(JSON.stringify({ baseline: 0, afterLoad: 0, peak: peakRss(), phases, iterations: 1 }));
    return;
  }
  if (request.task === 'vae-decoder') {
    const { loadMs, taskMs } = await (request.vae?.part === 'encoder' ? encodeOnce : decodeOnce)(request.vae!);
    console.log(JSON.stringify({ baseline: 0, afterLoad: 0, peak: peakRss(), phases: { loadMs, taskMs }, iterations: 1 }));
    return;
  }
  const phases: Record<string, number> = {};
  const baseline = rssNow();
  let started = performance.now();
  const capabilities = request.task === 'load' ? undefined : [request.task];
  const backend = request.arena === false ? new SessionOptionsBackend({ enableCpuMemArena: false }) : undefined;
  const model = await UniPic.load(request.model, {
    dtype: request.dtype,
    device: 'cpu',
    capabilities,
    eager: request.eager ?? false,
    ...(backend ? { backend } : {}),
  });
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
    const result = await model.understand({ image: { data, width: side, height: side, channels: 3 }, prompt: 'Describe the image.', maxTokens: 2, size: side })
      .result;
    phases.taskMs = performance.now() - started;
    phases.promptTokens = result.usage.promptTokens;
  }
  const peak = peakRss();
  await model.dispose();
  await backend?.dispose();
  console.log(JSON.stringify({ baseline, afterLoad, peak, phases, iterations }));
}

await main();
