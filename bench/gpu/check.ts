import type { Dtype } from '../../src/spec/manifest.js';
/**
 * The GPU check (issue 21 part 3), bundled by bench/gpu/pack.mjs and started by bench/gpu/run.sh:
 * writes a synthetic checkpoint with UniPic-1.5B's widths (the bench's streamed writer), converts
 * it at the dtypes asked for with the fused sampler at 512 and 1024 px, then measures through the
 * public API on one device and prints one markdown table.
 *
 *   node check.mjs --work DIR [--device cuda|webgpu|cpu] [--dtypes q4f16,fp16]
 *                  [--llm-layers N] [--mar-depth N] [--head-depth N] [--tiny] [--steps N] [--tokens N]
 *
 * Then the PyTorch baseline (torch_baseline.py: the oracle's modules, eager, `--torch-dtypes`, on
 * `cuda` when the device is cuda/webgpu and torch sees a GPU, else `cpu`) adds one row per dtype to
 * the same table. `--torch-dtypes none` skips it; `--python` (or UNIPIC_PYTHON) picks the interpreter.
 *
 * `--llm-layers/--mar-depth/--head-depth` shrink depths (widths stay full) so a CPU can stand in;
 * `--tiny` uses the tiny test structure (a smoke run of the whole pipeline in seconds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { UNIPIC_1_5B, type CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { tinyCheckpointConfig } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { UniPic } from '../../src/index.node.js';
import { writeFullSizeCheckpoint } from '../full-size-checkpoint.js';

const { values } = parseArgs({
  options: {
    work: { type: 'string' },
    device: { type: 'string', default: 'cuda' },
    dtypes: { type: 'string', default: 'q4f16,fp16' },
    'llm-layers': { type: 'string' },
    'mar-depth': { type: 'string' },
    'head-depth': { type: 'string' },
    tiny: { type: 'boolean', default: false },
    steps: { type: 'string', default: '64' },
    tokens: { type: 'string', default: '32' },
    'keep-weights': { type: 'boolean', default: false },
    'torch-dtypes': { type: 'string', default: 'bf16,fp16' },
    python: { type: 'string' },
  },
});
if (!values.work) throw new Error('--work DIR is required (where the weights and graphs are written)');
const work = resolve(values.work);
const device = values.device as 'cuda' | 'webgpu' | 'cpu';
const dtypes = values.dtypes!.split(',') as Dtype[];
const positive = (text: string | undefined, name: string) => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${name} needs a positive integer`);
  return n;
};

function structure(): CheckpointConfig {
  const base = values.tiny ? tinyCheckpointConfig() : UNIPIC_1_5B;
  const llmLayers = positive(values['llm-layers'], 'llm-layers');
  const marDepth = positive(values['mar-depth'], 'mar-depth');
  const headDepth = positive(values['head-depth'], 'head-depth');
  return {
    ...base,
    llm: { ...base.llm, ...(llmLayers ? { num_hidden_layers: llmLayers } : {}) },
    mar: { ...base.mar, ...(marDepth ? { encoder_depth: marDepth, decoder_depth: marDepth } : {}) },
    diffloss: { ...base.diffloss, ...(headDepth ? { depth: headDepth } : {}) },
  };
}

/** Polls nvidia-smi for the device's used memory; undefined where there is no nvidia-smi. */
function gpuMemoryPoller(): { stop: () => number | undefined } {
  let peak: number | undefined;
  let child: ChildProcess | undefined;
  try {
    child = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-lms', '200'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', () => undefined);
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        const mib = Number(line.trim().split(',')[0]);
        if (line.trim() && Number.isFinite(mib)) peak = Math.max(peak ?? 0, mib);
      }
    });
  } catch {
    child = undefined;
  }
  return {
    stop: () => {
      child?.kill();
      return peak;
    },
  };
}

const started = Date.now();
const log = (line: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const shape = structure();
const checkpoint = join(work, 'checkpoint');
const graphs = join(work, 'model');
await mkdir(work, { recursive: true });
// A folder from an earlier run is reused only when it was built for the same structure and dtypes.
const built = JSON.stringify({ shape, dtypes });
const stamp = join(work, 'built-for.json');
if (!existsSync(join(graphs, 'unipic.json')) || !existsSync(stamp) || (await readFile(stamp, 'utf8')) !== built) {
  await rm(graphs, { recursive: true, force: true });
  log(
    `writing synthetic weights (LLM ${shape.llm.num_hidden_layers} layers × ${shape.llm.hidden_size}, MAR ${shape.mar.encoder_depth}+${shape.mar.decoder_depth}, head ${shape.diffloss.depth})`,
  );
  await writeFullSizeCheckpoint(checkpoint, shape);
  log(`converting ${dtypes.join(', ')} with the fused sampler at 512 and 1024 px`);
  await convertCheckpoint(checkpoint, graphs, { dtypes, structure: shape, fusedSampler: true, resolutions: [512, 1024] });
  if (!values['keep-weights']) await rm(checkpoint, { recursive: true, force: true });
  await writeFile(stamp, built);
}

const steps = positive(values.steps, 'steps')!;
const maxTokens = positive(values.tokens, 'tokens')!;
const rows: string[][] = [];
const memory = gpuMemoryPoller();
for (const dtype of dtypes) {
  const backend = new NodeOrtBackend();
  const loadStarted = performance.now();
  const model = await UniPic.load(graphs, { backend, device, dtype, eager: true });
  const loadMs = performance.now() - loadStarted;
  try {
    const image = { data: new Uint8Array(512 * 512 * 3).fill(128), width: 512, height: 512, channels: 3 as const };
    log(`${dtype}: decode (${maxTokens} tokens)`);
    const text = await model.understand({ image, size: 512, maxTokens, repetitionPenalty: 1 }).result;
    log(`${dtype}: one MAR iteration at 512 and 1024 px`);
    const one512 = await model.generate({ prompt: 'a lighthouse at dusk', size: 512, steps: 1, seed: 1 }).result;
    const one1024 = await model.generate({ prompt: 'a lighthouse at dusk', size: 1024, steps: 1, seed: 1 }).result;
    log(`${dtype}: a whole 512 px image (${steps} iterations)`);
    const whole = await model.generate({ prompt: 'a lighthouse at dusk', size: 512, steps, seed: 1 }).result;
    const ms = (v: number) => v.toFixed(0);
    rows.push([
      dtype,
      model.backendInfo.device,
      ms(loadMs),
      text.timings.tokensPerSecond.toFixed(1),
      String(text.tokens.length),
      ms(one512.timings.samplingMs),
      ms(one1024.timings.samplingMs),
      ms(one1024.timings.decodeMs),
      ms(whole.timings.totalMs),
    ]);
  } finally {
    await model.dispose();
    await backend.dispose();
  }
}
rows.push(...(await torchRows()));
const peakMiB = memory.stop();

/** Where torch_baseline.py and the oracle's package are: beside the bundle, or in the repository. */
function torchBaseline(): { script: string; pythonPath?: string } {
  const here = dirname(fileURLToPath(import.meta.url));
  const packed = join(here, 'python', 'torch_baseline.py');
  if (existsSync(packed)) return { script: packed };
  return { script: join(here, 'torch_baseline.py'), pythonPath: resolve(here, '..', '..', 'tools', 'reference') };
}

/** Runs the PyTorch baseline once per dtype in its own process, cut so the table still prints in time. */
async function torchRows(): Promise<string[][]> {
  const torchDtypes = values['torch-dtypes'] === 'none' ? [] : values['torch-dtypes']!.split(',');
  if (torchDtypes.length === 0) return [];
  const structureFile = join(work, 'structure.json');
  await writeFile(structureFile, JSON.stringify(shape));
  const python = values.python ?? process.env.UNIPIC_PYTHON ?? 'python3';
  const { script, pythonPath } = torchBaseline();
  const budgetMs = Number(process.env.UNIPIC_CHECK_TIMEOUT ?? 600) * 1000;
  const torchDevice = device === 'cpu' ? 'cpu' : 'cuda';
  const out: string[][] = [];
  for (const dtype of torchDtypes) {
    const leftMs = budgetMs - (Date.now() - started) - 15_000;
    const args = [script, '--structure', structureFile, '--device', torchDevice, '--dtype', dtype, '--steps', String(steps), '--tokens', String(maxTokens)];
    log(`PyTorch baseline ${dtype} on ${torchDevice} (${python}, ${Math.round(leftMs / 1000)} s left)`);
    const result = leftMs > 10_000 ? await runPython(python, args, pythonPath, leftMs) : { error: 'no time left' };
    const label = `torch ${dtype} eager`;
    if ('error' in result) {
      out.push([label, torchDevice, `failed: ${result.error}`, '', '', '', '', '', '']);
      continue;
    }
    const cell = (part: unknown, pick: (v: number[]) => number) =>
      Array.isArray(part) ? pick(part as number[]).toFixed(0) : typeof part === 'object' && part ? `failed: ${(part as { error: string }).error}` : 'n/a';
    out.push([
      label,
      `${result.device}${result.gpu ? ` (${result.gpu})` : ''}`,
      Number(result.loadMs).toFixed(0),
      typeof result.decodeTokensPerSecond === 'number' ? result.decodeTokensPerSecond.toFixed(1) : cell(result.decodeTokensPerSecond, () => 0),
      String(maxTokens),
      cell(result.iteration512, ([sampler]) => sampler),
      cell(result.iteration1024, ([sampler]) => sampler),
      cell(result.iteration1024, ([, decode]) => decode),
      cell(result.image512, ([sampler, decode]) => sampler + decode),
    ]);
  }
  return out;
}

function runPython(python: string, args: string[], pythonPath: string | undefined, timeoutMs: number): Promise<Record<string, unknown> | { error: string }> {
  return new Promise((resolvePromise) => {
    const env = { ...process.env, ...(pythonPath ? { PYTHONPATH: [pythonPath, process.env.PYTHONPATH].filter(Boolean).join(':') } : {}) };
    const child = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolvePromise({ error: `${python} did not start (${error.message})` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('torch-baseline '));
      if (line) resolvePromise(JSON.parse(line.slice('torch-baseline '.length)));
      else resolvePromise({ error: signal ? 'cut at the time limit' : `exit ${code}` });
    });
  });
}

const header = [
  'dtype',
  'device',
  'load ms',
  'decode tok/s',
  'tokens',
  'MAR iter 512² ms',
  'MAR iter 1024² ms',
  'VAE decode 1024² ms',
  `512² image (${steps} it.) ms`,
];
console.log(`# unipic GPU check — ${new Date().toISOString()}`);
console.log(
  `structure: LLM ${shape.llm.num_hidden_layers}×${shape.llm.hidden_size}, MAR ${shape.mar.encoder_depth}+${shape.mar.decoder_depth}×${shape.mar.encoder_embed_dim}, head ${shape.diffloss.depth}×${shape.diffloss.width}${values.tiny ? ' (tiny)' : ''}; fused sampler`,
);
console.log(`peak GPU memory: ${peakMiB === undefined ? 'n/a (no nvidia-smi)' : `${peakMiB} MiB (nvidia-smi, whole device)`}`);
console.log('');
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log('');
console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
