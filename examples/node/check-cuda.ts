/**
 * Checks that onnxruntime-node can use CUDA on this machine, for whoever owns a GPU box:
 *
 *   npx tsx examples/node/check-cuda.ts            # CUDA
 *   npx tsx examples/node/check-cuda.ts webgpu     # or another node-ort device
 *
 * It starts the node-ort backend on the device (no fallback), prints what it found, runs a
 * 512×512 MatMul there and on the CPU, and compares the two. Exit code 0 means the device works.
 * When CUDA fails, docs/devices.md explains the install flag and the CUDA 12 / cuDNN 9 libraries.
 */
import { performance } from 'node:perf_hooks';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { UniPicError, type BackendUnavailableError } from '../../src/errors/index.js';
import type { Device, HostTensor } from '../../src/spec/backend.js';

const SIZE = 512;
const device = (process.argv[2] ?? 'cuda') as Device;

function matMulGraph(): Uint8Array {
  const builder = new GraphBuilder('check_matmul');
  const weights = Float32Array.from({ length: SIZE * SIZE }, (_, index) => Math.sin(index) / SIZE);
  const input = builder.input('x', 'float32', [1, SIZE]);
  const product = builder.op('MatMul', [input, builder.floatInitializer('w', [SIZE, SIZE], weights)]);
  builder.output(product, 'y', 'float32', [1, SIZE]);
  return builder.toBytes();
}

async function timedRuns(backendDevice: Device, bytes: Uint8Array, input: HostTensor): Promise<{ output: Float32Array; milliseconds: number }> {
  const backend = new NodeOrtBackend();
  try {
    await backend.init({ device: backendDevice });
    const session = await backend.createSession({ name: 'check_matmul', bytes });
    await session.run({ x: input }); // the first run pays for kernel selection / shader compilation
    const runs = 20;
    const started = performance.now();
    let output: Float32Array = new Float32Array();
    for (let run = 0; run < runs; run++) output = (await (await session.run({ x: input })).y.download()).data as Float32Array;
    return { output, milliseconds: (performance.now() - started) / runs };
  } finally {
    await backend.dispose();
  }
}

async function main(): Promise<number> {
  const backend = new NodeOrtBackend();
  try {
    const info = await backend.init({ device, onWarning: (warning) => console.warn(`warning: ${warning.message}`) });
    console.log('node-ort started:', JSON.stringify(info, null, 2));
  } catch (error) {
    if (UniPicError.isInstance(error)) {
      // The message already lists each attempt; the details carry them as data too.
      console.error(`${error.name} (${error.code}): ${error.message}`);
      const attempts = (error as BackendUnavailableError).attempts ?? [];
      if (attempts.length > 0) console.error('attempts:', JSON.stringify(attempts, null, 2));
    } else {
      console.error(error);
    }
    console.error('\nSee docs/devices.md ("CUDA with onnxruntime-node") for what to install.');
    return 1;
  } finally {
    await backend.dispose();
  }

  const bytes = matMulGraph();
  const input: HostTensor = { type: 'float32', dims: [1, SIZE], data: Float32Array.from({ length: SIZE }, (_, index) => Math.cos(index)) };
  const onDevice = await timedRuns(device, bytes, input);
  const onCpu = await timedRuns('cpu', bytes, input);
  let largest = 0;
  for (let index = 0; index < SIZE; index++) largest = Math.max(largest, Math.abs(onDevice.output[index] - onCpu.output[index]));
  console.log(`MatMul [1, ${SIZE}] × [${SIZE}, ${SIZE}]: ${device} ${onDevice.milliseconds.toFixed(3)} ms/run, cpu ${onCpu.milliseconds.toFixed(3)} ms/run`);
  console.log(`largest |${device} − cpu| = ${largest.toExponential(2)}`);
  // Each output sums 512 products of magnitude ≤ 1/512: devices differ from the CPU only by
  // float32 reassociation (and TF32 on recent NVIDIA GPUs, ~1e-3 relative). Beyond 5e-3 the
  // device computes wrongly.
  const tolerance = 5e-3;
  if (largest > tolerance) {
    console.error(`FAIL: results differ by more than ${tolerance}`);
    return 1;
  }
  console.log(`OK: ${device} works`);
  return 0;
}

process.exitCode = await main();
