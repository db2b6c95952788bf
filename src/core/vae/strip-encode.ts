import { throwIfAborted } from '../../errors/abort-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { DeviceTensor, HostTensor } from '../../spec/backend.js';
import { STRIP_ENCODER_TAIL_INPUT, stripPassNames, type StripEncoderPlan, type StripPass } from '../../spec/strip-encoder.js';
import type { Graphs } from '../model/graphs.js';
import { float32, takeFloat32 } from '../tensor.js';
import { GroupMoments, type GroupStatistics } from './group-statistics.js';
import { copyRows, rowsPerStrip, rowsWithHalo, StripBuffers, type Plane, type StripOptions } from './planes.js';
import { TensorPool } from './tensor-pool.js';

export type StripEncodeOptions = StripOptions;

/**
 * Encodes one image (`pixels [1, C, H, W]`) with a strip encoder (docs/model-format.md, "Strip VAE
 * encoder"): every pass strip by strip, each strip fed its inputs' halo rows (zero outside the
 * image) and the whole-image GroupNorm statistics of the tensors its norms read, accumulated in
 * float64 by the pass that made them; then the tail over the last stored tensor. Equal to the
 * one-shot encoder up to float32 rounding; only the stored tensors are held at full resolution.
 * Returns the tail's outputs, which stay the caller's to dispose.
 */
export async function encodeInStrips(
  graphs: Graphs,
  plan: StripEncoderPlan,
  pixels: HostTensor,
  options: StripEncodeOptions = {},
): Promise<Record<string, DeviceTensor>> {
  const [batch, channels, height, width] = pixels.dims;
  if (pixels.dims.length !== 4 || batch !== 1 || channels !== plan.tensors[0].channels) {
    throw new InvalidModelError(`strip encoder input is [${pixels.dims.join(', ')}], expected [1, ${plan.tensors[0].channels}, H, W]`);
  }
  const coarsest = Math.max(...plan.tensors.map((t) => t.scale));
  if (height % coarsest !== 0 || width % coarsest !== 0) throw new InvalidModelError(`strip encoder input ${height}×${width} is not a multiple of ${coarsest}`);
  const dummies = [...plan.passes.map((pass, k) => passDummies(plan, pass, k)), tailDummy(plan)];
  const lastUse = new Map<number, number>();
  plan.passes.forEach((pass, k) => {
    for (const input of pass.inputs) lastUse.set(input.tensor, k);
  });
  if (!(pixels.data instanceof Float32Array)) throw new TypeError(`strip encoder input must be float32, got ${pixels.type}`);
  const planes = new Map<number, Plane>([[0, { channels, height, width, data: pixels.data }]]);
  const stats = new Map<number, GroupStatistics>();
  const pool = new TensorPool();
  const buffers = new StripBuffers();
  // Pass outputs skip the checked runner's NaN scan (a pass per strip): a NaN reaches the group
  // statistics (checked) or the tail's outputs, which are scanned.
  const run = async (part: number, feeds: Record<string, HostTensor>, outputs: string[], scan: boolean) => {
    const all: Record<string, HostTensor> = {};
    dummies.forEach((dummy, j) => j !== part && Object.assign(all, dummy));
    return graphs.run(plan.graph, { ...all, ...feeds }, { outputs, keepOnDevice: scan ? [] : outputs, signal: options.signal });
  };

  for (const [k, pass] of plan.passes.entries()) {
    throwIfAborted(options.signal);
    const names = stripPassNames(k);
    const { channels: outChannels, scale } = plan.tensors[pass.output];
    const outHeight = height / scale;
    const outWidth = width / scale;
    const widest = Math.max(outChannels * outWidth, ...pass.inputs.map((i) => plan.tensors[i.tensor].channels * (width / plan.tensors[i.tensor].scale)));
    const rows = rowsPerStrip(options, widest);
    const output: Plane | undefined = pass.store
      ? { channels: outChannels, height: outHeight, width: outWidth, data: pool.take(outChannels * outHeight * outWidth) }
      : undefined;
    const moments = pass.stats ? new GroupMoments(outChannels, plan.groups) : undefined;
    const fixed: Record<string, HostTensor> = { [names.height]: float32([1], Float32Array.of(outHeight)) };
    pass.norms.forEach((tensor, j) => {
      const s = stats.get(tensor)!;
      fixed[names.mean(j)] = float32([plan.groups], s.mean);
      fixed[names.rstd(j)] = float32([plan.groups], s.rstd);
    });
    for (let top = 0; top < outHeight; top += rows) {
      const bottom = Math.min(outHeight, top + rows);
      const feeds: Record<string, HostTensor> = { ...fixed, [names.top]: float32([1], Float32Array.of(top)) };
      pass.inputs.forEach((input, i) => {
        const ratio = scale / plan.tensors[input.tensor].scale;
        feeds[names.input(i)] = rowsWithHalo(planes.get(input.tensor)!, ratio * top - input.lo, ratio * bottom + input.hi, buffers, `in${i}`);
      });
      const out = await run(k, feeds, [names.y], false);
      const strip = (await takeFloat32(out[names.y])).data;
      if (output) copyRows(strip, bottom - top, output, top);
      moments?.add(strip, bottom - top, outWidth);
    }
    if (moments) stats.set(pass.output, moments.finish(plan.epsilon, { graph: plan.graph, output: names.y }));
    if (output) planes.set(pass.output, output);
    for (const input of pass.inputs) {
      if (lastUse.get(input.tensor) === k && input.tensor !== plan.tail.input) {
        if (input.tensor !== 0) pool.give(planes.get(input.tensor)!.data);
        planes.delete(input.tensor);
      }
    }
  }
  throwIfAborted(options.signal);
  const last = planes.get(plan.tail.input)!;
  const x = float32([1, last.channels, last.height, last.width], last.data);
  planes.clear();
  return run(plan.passes.length, { [STRIP_ENCODER_TAIL_INPUT]: x }, [...plan.tail.outputs], true);
}

/** Minimal inputs for pass `k` while another part runs: one output row and column at the top of a one-row image. */
function passDummies(plan: StripEncoderPlan, pass: StripPass, k: number): Record<string, HostTensor> {
  const names = stripPassNames(k);
  const scale = plan.tensors[pass.output].scale;
  const zeros = (dims: number[]) => float32(dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));
  const feeds: Record<string, HostTensor> = { [names.top]: zeros([1]), [names.height]: float32([1], Float32Array.of(1)) };
  pass.inputs.forEach((input, i) => {
    const { channels, scale: inputScale } = plan.tensors[input.tensor];
    const ratio = scale / inputScale;
    feeds[names.input(i)] = zeros([1, channels, ratio + input.lo + input.hi, ratio]);
  });
  pass.norms.forEach((_, j) => {
    feeds[names.mean(j)] = zeros([plan.groups]);
    feeds[names.rstd(j)] = float32([plan.groups], new Float32Array(plan.groups).fill(1));
  });
  return feeds;
}

function tailDummy(plan: StripEncoderPlan): Record<string, HostTensor> {
  const dims = plan.tail.dummy;
  return { [STRIP_ENCODER_TAIL_INPUT]: float32(dims, new Float32Array(dims.reduce((a, b) => a * b, 1))) };
}
