/**
 * Finds where a graph's WebGPU result leaves the CPU's: every intermediate value of an ONNX file is
 * made a graph output, the same random feeds run on onnxruntime-node's CPU and WebGPU EPs, and each
 * value's relative RMS difference is printed in node order (the first large one is the culprit;
 * docs/fidelity.md has the q4 MatMulNBits case it found).
 *
 *   npx tsx bench/webgpu-bisect.ts <graph.onnx> [--dim sequence=12 --dim past_sequence=0 ...] [--over 0.05]
 *
 * Symbolic dims default to 1 (names containing `past` to 0). Feeds: float inputs uniform in
 * [−1, 1); int64 `*mask*` ones, `*position*` 0, 1, 2… along the last axis, other ints 0. For f16
 * WebGPU kernels on a CPU set VK_ICD_FILENAMES to Mesa ≥ 25 lavapipe (docs/devices.md). The
 * rewritten graph is written beside the original (its external data paths stay valid) and removed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { onnx } from '../src/convert/onnx/proto.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { dim: { type: 'string', multiple: true, default: [] }, over: { type: 'string', default: '0' } },
});
const [source] = positionals;
if (!source) throw new Error('usage: webgpu-bisect.ts <graph.onnx> [--dim name=value ...] [--over threshold]');
const dims = new Map(values.dim!.map((entry) => entry.split('=') as [string, string]).map(([name, value]) => [name, Number(value)]));
const over = Number(values.over);

const model = onnx.ModelProto.decode(readFileSync(source));
const graph = model.graph!;
const finalOutputs = new Set((graph.output ?? []).map((output) => output.name ?? ''));
const producer = new Map<string, string>();
for (const node of graph.node ?? []) {
  for (const output of node.output ?? []) {
    if (!output) continue;
    producer.set(output, `${node.opType}${node.domain ? `@${node.domain}` : ''} ${node.name ?? ''}`);
    // No type given: ORT takes the inferred one for a graph output.
    if (!finalOutputs.has(output)) graph.output!.push({ name: output });
  }
}
const rewritten = join(dirname(source), `.bisect-${basename(source)}`);
writeFileSync(rewritten, onnx.ModelProto.encode(model).finish());

/** Values as numbers; onnxruntime-node hands float16 out as raw bits (Uint16Array). */
function numbers(tensor: ort.Tensor): Float64Array {
  const data = tensor.data as ArrayLike<number | bigint | boolean>;
  if (tensor.type !== 'float16') return Float64Array.from(data as ArrayLike<number>, Number);
  return Float64Array.from(data as Uint16Array, (bits) => {
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    const magnitude =
      exponent === 0 ? fraction * 2 ** -24 : exponent === 31 ? (fraction ? Number.NaN : Number.POSITIVE_INFINITY) : (1 + fraction / 1024) * 2 ** (exponent - 15);
    return bits & 0x8000 ? -magnitude : magnitude;
  });
}

let seed = 1;
const uniform = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return (seed / 2147483648) * 2 - 1;
};
const feeds: Record<string, ort.Tensor> = {};
for (const input of graph.input ?? []) {
  const name = input.name ?? '';
  const tensorType = input.type?.tensorType;
  const shape = (tensorType?.shape?.dim ?? []).map((dim) =>
    dim.dimValue != null ? Number(dim.dimValue) : (dims.get(dim.dimParam ?? '') ?? ((dim.dimParam ?? '').includes('past') ? 0 : 1)),
  );
  const count = shape.reduce((a, b) => a * b, 1);
  if (tensorType?.elemType === onnx.TensorProto.DataType.FLOAT) {
    feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: count }, uniform), shape);
  } else if (tensorType?.elemType === onnx.TensorProto.DataType.INT64) {
    const last = shape.at(-1) ?? 1;
    const value = (i: number) => (name.includes('mask') ? 1n : name.includes('position') ? BigInt(i % last) : 0n);
    feeds[name] = new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: count }, (_, i) => value(i)),
      shape,
    );
  } else {
    throw new Error(`input ${name}: only float32 and int64 feeds are generated`);
  }
}

try {
  const cpu = await (await ort.InferenceSession.create(rewritten, { executionProviders: ['cpu'] })).run(feeds);
  const gpu = await (await ort.InferenceSession.create(rewritten, { executionProviders: ['webgpu'] })).run(feeds);
  for (const name of producer.keys()) {
    const [a, b] = [cpu[name], gpu[name]];
    if (!a || !b) continue;
    let difference = 0;
    let norm = 0;
    const [x, y] = [numbers(a), numbers(b)];
    for (let i = 0; i < x.length; i++) {
      difference += (x[i] - y[i]) ** 2;
      norm += x[i] ** 2;
    }
    const relative = Math.sqrt(difference / (norm || 1));
    if (relative < over) continue;
    console.log(`${relative.toExponential(2).padStart(9)}  ${a.type.padEnd(7)} [${a.dims.join(',')}]`.padEnd(40), name.padEnd(48), producer.get(name));
  }
} finally {
  rmSync(rewritten, { force: true });
}
