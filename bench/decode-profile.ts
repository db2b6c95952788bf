/**
 * Where one decode step's time goes, per ONNX op type: ORT's own profiler (`enableProfiling`) on
 * the decode benchmark's full-size graphs (`npm run bench -- --only decode` builds them), one token
 * after `--past` cached positions, `--steps` profiled steps after warm-up steps. Prints each op
 * type's share of the kernel time, and for `MatMulNBits` / `MatMul` the weight bytes they stream and
 * the rate they reach. Session variants for the cheap-win sweep: `--threads`, `--accuracy`
 * (rewrites every MatMulNBits `accuracy_level` in memory).
 *
 *   npx tsx bench/decode-profile.ts --folder bench/.cache/decode-qwen2.5-1.5b --variant q4-acc4 [--past 38] [--steps 8]
 *     [--in-place [--layout values-transposed|keys-transposed]]
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { UNIPIC_1_5B, toModelConfig } from '../src/families/unipic1/convert/checkpoint-config.js';
import type { DecodeModelFolder } from './lib/decode-models.js';
import { withAccuracyLevel } from './lib/onnx-patch.js';
import { formatMs, median } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const { values: args } = parseArgs({
  options: {
    folder: { type: 'string' },
    variant: { type: 'string', default: 'q4-acc4' },
    past: { type: 'string', default: '38' },
    steps: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string' },
    accuracy: { type: 'string' },
    'in-place': { type: 'boolean', default: false },
    // The in-place graph's buffer layout: values-transposed (today's converter) or keys-transposed (the first one).
    layout: { type: 'string', default: 'values-transposed' },
  },
});
if (!args.folder) throw new Error('--folder: the decode benchmark folder (bench/.cache/decode-qwen2.5-1.5b)');
const folder = JSON.parse(await readFile(join(args.folder, 'bench-folder.json'), 'utf8')) as DecodeModelFolder;
const files = folder.ours[args.variant];
if (!files) throw new Error(`no variant ${args.variant} in ${args.folder} (has ${Object.keys(folder.ours).join(', ')})`);
const onnxDir = join(args.folder, 'onnx');
const { llm } = toModelConfig(UNIPIC_1_5B);
const past = Number(args.past);
const steps = Number(args.steps);
const inPlace = args['in-place'];
const capacity = inPlace ? Math.ceil((past + 1) / 256) * 256 : past;
const profileDir = await mkdtemp(join(tmpdir(), 'unipic-decode-profile-'));

try {
  const options = (prefix: string): ort.InferenceSession.SessionOptions => ({
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableProfiling: true,
    profileFilePrefix: join(profileDir, prefix),
    ...(args.threads ? { intraOpNumThreads: Number(args.threads) } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  // A patched graph is written beside the original so that ORT finds the external weights.
  const patched: string[] = [];
  const open = async (file: string, prefix: string) => {
    if (!args.accuracy) return ort.InferenceSession.create(join(onnxDir, file), options(prefix));
    const path = join(onnxDir, `${file}.profile-acc${args.accuracy}.onnx`);
    await writeFile(path, withAccuracyLevel(await readFile(join(onnxDir, file)), Number(args.accuracy)));
    patched.push(path);
    return ort.InferenceSession.create(path, options(prefix));
  };
  const body = await open(files.llm, 'llm');
  const head = await open(files.lmHead, 'lm_head');
  for (const path of patched) await rm(path);

  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor(
      'float32',
      Float32Array.from({ length: llm.hiddenSize }, (_, i) => Math.sin(i) * 0.02),
      [1, 1, llm.hiddenSize],
    ),
    attention_mask: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: capacity + 1 }, (_, i) => (i < past || i === capacity ? 1n : 0n)),
      [1, capacity + 1],
    ),
    position_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(past)]), [1, 1]),
  };
  const cache = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5);
  const size = llm.numKeyValueHeads * capacity * llm.headDim;
  for (let i = 0; i < llm.numLayers; i++) {
    const slotsMajor = [1, llm.numKeyValueHeads, capacity, llm.headDim];
    const dimsMajor = [1, llm.numKeyValueHeads, llm.headDim, capacity];
    const keysTransposed = inPlace && args.layout === 'keys-transposed';
    const valuesTransposed = inPlace && args.layout === 'values-transposed';
    feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', cache(size), keysTransposed ? dimsMajor : slotsMajor);
    feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', cache(size), valuesTransposed ? dimsMajor : slotsMajor);
  }
  const headFeeds = {
    hidden: new ort.Tensor(
      'float32',
      Float32Array.from({ length: llm.hiddenSize }, (_, i) => Math.cos(i)),
      [1, llm.hiddenSize],
    ),
  };
  const warmup = Number(args.warmup);
  const wall: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const started = performance.now();
    await body.run(feeds);
    await head.run(headFeeds);
    if (i >= warmup) wall.push(performance.now() - started);
  }
  for (const session of [body, head]) {
    session.endProfiling();
    await session.release();
  }

  // Per session, the last `steps` runs are the measured ones (the warm-up runs come first).
  const byOp = new Map<string, { us: number; count: number; bytes: number }>();
  // MatMulNBits per output width: which products stream their weights slowest.
  const byWidth = new Map<string, { us: number; count: number; bytes: number }>();
  const add = (map: typeof byOp, key: string, us: number, bytes: number) => {
    const entry = map.get(key) ?? { us: 0, count: 0, bytes: 0 };
    entry.us += us;
    entry.count += 1;
    entry.bytes += bytes;
    map.set(key, entry);
  };
  let runUs = 0;
  for (const name of (await readdir(profileDir)).filter((file) => file.endsWith('.json'))) {
    const events = JSON.parse(await readFile(join(profileDir, name), 'utf8')) as ProfileEvent[];
    const measured = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(-steps);
    runUs += measured.reduce((sum, e) => sum + e.dur, 0);
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < measured[0].ts) continue;
      const op = e.args?.op_name ?? '?';
      if (op !== 'MatMulNBits') {
        add(byOp, op, e.dur, 0);
        continue;
      }
      // ORT prepacks the 4-bit matrix, so the profile's parameter_size holds only the scales and
      // zero points: the packed N × K / 2 bytes are added back.
      const n = lastDim(e.args?.output_type_shape);
      const bytes = Number(e.args?.parameter_size ?? 0) + (n * lastDim(e.args?.input_type_shape)) / 2;
      add(byOp, op, e.dur, bytes);
      add(byWidth, `N = ${n}`, e.dur, bytes);
    }
  }
  const kernelUs = [...byOp.values()].reduce((sum, e) => sum + e.us, 0);
  const weightBytes = folder.weightBytesPerToken[args.variant];
  const row = (name: string, e: { us: number; count: number; bytes: number }) => [
    name,
    String(e.count / steps),
    formatMs(e.us / steps / 1000),
    `${((100 * e.us) / kernelUs).toFixed(1)}%`,
    e.bytes > 0 ? `${(e.bytes / steps / 1e6).toFixed(0)} MB at ${(e.bytes / e.us / 1e3).toFixed(1)} GB/s` : '',
  ];
  const header = ['op type', 'nodes / step', 'ms / step', 'of kernel time', 'weights read'];
  console.log(
    formatTable(
      header,
      [...byOp.entries()].sort((a, b) => b[1].us - a[1].us).map(([op, e]) => row(op, e)),
    ),
  );
  console.log();
  console.log(
    formatTable(
      ['MatMulNBits, output width', ...header.slice(1)],
      [...byWidth.entries()].sort((a, b) => b[1].us - a[1].us).map(([w, e]) => row(w, e)),
    ),
  );
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(
    `\n${args.variant}${args.accuracy ? ` (accuracy_level ${args.accuracy})` : ''}${args.threads ? `, ${args.threads} threads` : ''}, ` +
      `${inPlace ? `in-place cache (${args.layout}), capacity ${capacity}` : 'concat cache'}, ${past} cached positions, llm + lm_head; ` +
      `wall ${formatMs(median(wall))} / step (median of ${steps}), ORT model_run ${formatMs(runUs / steps / 1000)}, kernels ${formatMs(kernelUs / steps / 1000)} ` +
      `(${((100 * kernelUs) / runUs).toFixed(0)}% of the runs; the rest is ORT's executor between kernels); ` +
      `weights read per token ${(weightBytes / 1e9).toFixed(2)} GB; load average ${load}`,
  );
} finally {
  await rm(profileDir, { recursive: true, force: true });
}

interface ProfileEvent {
  readonly cat: string;
  readonly name: string;
  readonly ts: number;
  readonly dur: number;
  readonly args?: {
    readonly op_name?: string;
    readonly parameter_size?: string;
    readonly input_type_shape?: readonly Record<string, number[]>[];
    readonly output_type_shape?: readonly Record<string, number[]>[];
  };
}

/** The last dimension of a profile event's first input or output. */
function lastDim(shapes: readonly Record<string, number[]>[] | undefined): number {
  const dims = shapes?.[0] ? Object.values(shapes[0])[0] : undefined;
  if (!dims) throw new Error('profile event without a shape');
  return dims[dims.length - 1];
}
