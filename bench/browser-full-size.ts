/**
 * The full-size model in headless Chromium (issue 21 part 2): serves a converted UniPic-1.5B folder
 * on 127.0.0.1, and for each step of a matrix (device × dtype × call) starts a fresh Chromium with
 * an empty profile, loads the folder through the worker entry, runs the call and records what
 * happened: load time, call timings, the error (name, code, message) if it failed, the peak memory
 * of Chromium's processes and the Cache API usage. Each step is cut by its own timeout (the browser
 * is closed and the step recorded as `timeout` with the phase it had reached). Results go to a JSON
 * file after every step, so a run cut short keeps what finished.
 *
 *   npx tsx bench/browser-full-size.ts <model-dir> <out.json> [--only wasm-q4-understand-512,...] [--timeout-scale 1] [--threads 2]
 *
 * Run it under `flock /work/wt/_bench.lock` (one step per lock hold) on the shared machine. The table in docs/browser.md
 * comes from this script.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBuiltPackage } from '../test/browser/support/built-package.js';
import { bundlePage, ORT_WEB_DIST, pageHtml } from '../test/browser/support/bundle-page.js';
import { launchChromium } from '../test/browser/support/chromium.js';
import { startStaticServer } from '../test/browser/support/static-server.js';
import type { StepRequest, StepState } from './browser/full-size-page.js';

interface Step extends Omit<StepRequest, 'modelUrl'> {
  readonly name: string;
  readonly timeoutS: number;
}

const step = (device: Step['device'], dtype: Step['dtype'], task: Step['task'], size: number, timeoutS: number, extra: Partial<Step> = {}): Step => ({
  name: `${device}-${dtype}-${task}-${task === 'load' ? 'all' : size}${extra.guidance ? `-g${extra.guidance}` : ''}`,
  device,
  dtype,
  task,
  size,
  steps: 1,
  diffusionSteps: 2,
  maxTokens: 2,
  timeoutS,
  ...extra,
});

/**
 * In the order that answers the most for the time: the q4 paths users get first, then WebGPU, then
 * the folders and sizes where limits are expected (those should be refused at load, in seconds).
 * One MAR iteration and two diffusion steps still run every graph of a generation, VAE decode
 * included; the `load` steps create every session (`eager`) to show graph-size limits.
 */
const MATRIX: Step[] = [
  step('wasm', 'q4', 'understand', 512, 900),
  step('wasm', 'q4', 'generate', 512, 1500),
  step('webgpu', 'q4', 'load', 512, 600),
  // SwiftShader runs the same calls 25–35× slower than wasm: time-boxed, these show how far a call
  // gets (its events) and what it holds, not a finished image.
  step('webgpu', 'q4', 'generate', 512, 1200),
  step('webgpu', 'q4', 'understand', 512, 1200),
  step('webgpu', 'q4f16', 'load', 512, 300),
  step('webgpu', 'fp16', 'load', 512, 300),
  step('wasm', 'fp16', 'load', 512, 300),
  step('wasm', 'q4f16', 'load', 512, 600),
  step('wasm', 'q4', 'understand', 1024, 1200),
  step('wasm', 'q4', 'generate', 1024, 900),
  // Guidance 1 passes the activation check at 1024 px on wasm (one row of scores): the limit case.
  step('wasm', 'q4', 'generate', 1024, 2400, { guidance: 1 }),
];

/** Processes descending from this one (Chromium and its children), by /proc parent links. */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop()!;
    for (const [child, parent] of parents) if (parent === pid) found.push(child), queue.push(child);
  }
  return found;
}

/** Proportional set size (shared pages split between sharers) of one process, and its Chromium role. */
function processMemory(pid: number): { pss: number; type: string } | undefined {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const pss = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('chrom')) return undefined;
    const type = /--type=([a-z-]+)/.exec(cmdline)?.[1] ?? 'browser';
    const utility = /--utility-sub-type=([\w.]+)/.exec(cmdline)?.[1];
    return { pss, type: utility ? `${type}:${utility.split('.').at(-1)}` : type };
  } catch {
    return undefined;
  }
}

/** Samples Chromium's memory every second: the peak of the total, and each role's own peak. */
function memorySampler() {
  let peakTotal = 0;
  const peakByType: Record<string, number> = {};
  // The machine is shared: the 1-minute load average at the start and its peak say how loaded the step ran.
  const loadAtStart = loadavg()[0]!;
  let peakLoad = loadAtStart;
  const timer = setInterval(() => {
    let total = 0;
    const byType: Record<string, number> = {};
    for (const pid of descendants(process.pid)) {
      const memory = processMemory(pid);
      if (!memory) continue;
      total += memory.pss;
      byType[memory.type] = (byType[memory.type] ?? 0) + memory.pss;
    }
    peakTotal = Math.max(peakTotal, total);
    peakLoad = Math.max(peakLoad, loadavg()[0]!);
    for (const [type, bytes] of Object.entries(byType)) peakByType[type] = Math.max(peakByType[type] ?? 0, bytes);
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      return { peakTotalBytes: peakTotal, peakByTypeBytes: peakByType, loadAverage: { start: loadAtStart, peak: peakLoad } };
    },
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { only: { type: 'string' }, 'timeout-scale': { type: 'string', default: '1' }, threads: { type: 'string' } },
  });
  const [modelDir, outFile] = positionals;
  if (!modelDir || !outFile) throw new Error('usage: browser-full-size.ts <model-dir> <out.json> [--only name,...] [--timeout-scale k] [--threads n]');
  const only = values.only?.split(',');
  const scale = Number(values['timeout-scale']);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  const steps = MATRIX.filter((s) => !only || only.includes(s.name)).map((s) => (threads ? { ...s, threads } : s));

  await ensureBuiltPackage();
  const [page, worker] = await Promise.all([
    bundlePage(fileURLToPath(new URL('browser/full-size-page.ts', import.meta.url))),
    bundlePage(fileURLToPath(new URL('../test/browser/pages/model-worker.ts', import.meta.url))),
  ]);
  const server = await startStaticServer({
    folders: { '/ort/': ORT_WEB_DIST, '/models/full/': modelDir },
    files: { '/index.html': pageHtml('/page.js'), '/page.js': page, '/worker.js': worker },
  });
  const results: Record<string, unknown>[] = [];
  const save = () => writeFileSync(outFile, `${JSON.stringify({ date: new Date().toISOString(), modelDir, results }, null, 2)}\n`);
  try {
    for (const s of steps) {
      const started = Date.now();
      console.error(`[${new Date().toISOString()}] ${s.name} (timeout ${Math.round(s.timeoutS * scale)} s)`);
      const browser = await launchChromium();
      const memory = memorySampler();
      let outcome: 'done' | 'error' | 'timeout' | 'crash' = 'done';
      let state: StepState | undefined;
      try {
        const tab = await browser.newPage();
        let crashed = false;
        tab.on('crash', () => (crashed = true));
        await tab.goto(server.url('/index.html'));
        await tab.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
        const request: StepRequest = { ...s, modelUrl: server.url('/models/full/') };
        const call = tab.evaluate((r) => (globalThis as unknown as { runStep(r: StepRequest): Promise<StepState> }).runStep(r), request);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), s.timeoutS * scale * 1000)));
        const first = await Promise.race([call.catch((error: Error) => error), timeout]);
        // A pending timer would keep the process (and the bench lock) until it fired.
        clearTimeout(timer);
        if (first === 'timeout') {
          outcome = 'timeout';
          state = await tab.evaluate(() => (globalThis as unknown as { fullSizeState: { current?: StepState } }).fullSizeState.current).catch(() => undefined);
        } else if (first instanceof Error) {
          outcome = crashed || /crash|Target closed|has been closed/i.test(first.message) ? 'crash' : 'error';
          state = { phase: 'page', events: [], error: { name: first.name, message: first.message.slice(0, 600) } };
        } else {
          state = first;
          if (state.error) outcome = 'error';
        }
      } finally {
        const mem = memory.stop();
        await browser.close();
        results.push({
          ...s,
          outcome,
          wallS: Math.round((Date.now() - started) / 1000),
          ...mem,
          state,
          browserLog: browser.log.filter((line) => /error|warn|abort|memory|limit/i.test(line)).slice(-12),
        });
        save();
        console.error(`  → ${outcome} in ${Math.round((Date.now() - started) / 1000)} s, peak ${(mem.peakTotalBytes / 2 ** 30).toFixed(2)} GiB`);
      }
    }
  } finally {
    await server.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
