import { throwIfAborted } from '../../errors/abort-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { HostTensor } from '../../spec/backend.js';
import { stripNames, type StripDecoderPlan, type StripStage } from '../../spec/strip-decoder.js';
import type { Graphs } from '../model/graphs.js';
import { float32, takeFloat32 } from '../tensor.js';
import { GroupMoments, groupStatistics } from './group-statistics.js';
import { TensorPool } from './tensor-pool.js';
import { copyRows, rowsPerStrip, rowsWithHalo, StripBuffers, type Plane, type StripOptions } from './planes.js';

export type StripDecodeOptions = StripOptions;

/**
 * Decodes one latent (batch 1) with a strip decoder (docs/model-format.md, "Strip VAE decoder"):
 * the head over the whole latent, then every tail stage strip by strip, each strip fed its halo
 * rows (zero rows and a zero mask outside the image, as the convolution's zero padding) and the
 * GroupNorm statistics of the whole input tensor, merged in float64 from its strips' moments (the
 * graph's, or a JS pass for folders converted before) as the previous stage wrote it. The
 * result equals the one-shot decoder up to float32 rounding; only the stage's input, its skip and
 * its output are held at full resolution (a ResnetBlock's output in its skip's buffer), never the
 * one-shot graph's many live activations.
 */
export async function decodeInStrips(
  graphs: Graphs,
  plan: StripDecoderPlan,
  latent: HostTensor,
  options: StripDecodeOptions = {},
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const { stages } = plan;
  const dummies = stages.map((stage, k) => dummyFeeds(plan, stage, k));
  const lastUse = stages.map((_, k) => Math.max(k, ...stages.map((s, j) => (s.kind !== 'head' && (s.input === k || (s.kind === 'conv' && s.skip === k)) ? j : -1))));
  const pool = new TensorPool();
  const buffers = new StripBuffers();
  const planes: (Plane | undefined)[] = [];
  const run = async (k: number, feeds: Record<string, HostTensor>, moments?: GroupMoments) => {
    const all: Record<string, HostTensor> = {};
    dummies.forEach((dummy, j) => j !== k && Object.assign(all, dummy));
    const { y, yMean, yM2 } = stripNames(k);
    // Intermediate strips skip the checked runner's NaN scan (a pass per strip): a NaN reaches the
    // group statistics (checked below) or the last stage's output, which is scanned.
    const last = k === stages.length - 1;
    const outputs = moments ? [y, yMean, yM2] : [y];
    const out = await graphs.run(plan.graph, { ...all, ...feeds }, { outputs, keepOnDevice: last ? [] : outputs, signal: options.signal });
    const strip = await takeFloat32(out[y]);
    if (moments) moments.addMoments(strip.data.length / plan.groups, (await takeFloat32(out[yMean])).data, (await takeFloat32(out[yM2])).data);
    return strip;
  };

  const head = await run(0, { [stripNames(0).x]: latent });
  planes.push(toPlane(head.data, head.dims));
  for (let k = 1; k < stages.length; k++) {
    throwIfAborted(options.signal);
    const stage = stages[k] as Exclude<StripStage, { kind: 'head' }>;
    const input = planes[stage.input]!;
    if (input.channels !== stage.channels)
      throw new InvalidModelError(`strip stage ${k} expects ${stage.channels} channels, stage ${stage.input} made ${input.channels}`);
    const scale = stage.kind === 'upsample' ? 2 : 1;
    const height = input.height * scale;
    const width = input.width * scale;
    let rows = rowsPerStrip(options, input.channels * width);
    if (scale === 2) rows = Math.max(2, rows - (rows % 2));
    const inPlace = overwritableSkip(stage, k, planes, lastUse, height, width);
    // Statistics only for a tensor that a later stage's GroupNorm reads.
    const normedBy = stages.find((s): s is Extract<StripStage, { kind: 'conv' }> => s.kind === 'conv' && s.input === k);
    const moments = normedBy ? new GroupMoments(normedBy.channels, plan.groups) : undefined;
    let output: Plane | undefined;
    for (let top = 0; top < height; top += rows) {
      const bottom = Math.min(height, top + rows);
      const feeds = stripFeeds(plan, stage, k, input, planes, top, bottom, buffers);
      const strip = await run(k, feeds, plan.statistics === 'graph' ? moments : undefined);
      output ??= {
        channels: strip.dims[1],
        height,
        width,
        data: inPlace && strip.dims[1] === inPlace.channels ? inPlace.data : pool.take(strip.dims[1] * height * width),
      };
      copyRows(strip.data, bottom - top, output, top);
      // Folders converted before the graph reduced its strips: the strip's statistics while it is in cache.
      if (plan.statistics !== 'graph') moments?.add(strip.data, bottom - top, width);
    }
    if (output && moments) output.stats = moments.finish(plan.epsilon, { graph: plan.graph, output: stripNames(k).y });
    planes.push(output);
    // The skip's buffer now holds this stage's output: nothing to give back to the pool.
    if (inPlace && output?.data === inPlace.data) planes[(stage as { skip: number }).skip] = undefined;
    for (let j = 0; j < k; j++) {
      if (lastUse[j] === k && planes[j]) {
        pool.give(planes[j]!.data);
        planes[j] = undefined;
      }
    }
  }
  const result = planes[stages.length - 1]!;
  return { data: result.data, dims: [1, result.channels, result.height, result.width] };
}

/**
 * The skip plane a stage may write its output over, strip by strip: a ResnetBlock's second conv
 * adds the block input row for row (output rows [top, bottom) read exactly those skip rows, copied
 * into the feed before the run), and that input is dead after it. One full-resolution tensor fewer
 * alive (docs/performance.md, "Strip VAE decode, round 3").
 */
function overwritableSkip(
  stage: Exclude<StripStage, { kind: 'head' }>,
  k: number,
  planes: readonly (Plane | undefined)[],
  lastUse: readonly number[],
  height: number,
  width: number,
): Plane | undefined {
  if (stage.kind !== 'conv' || stage.skip === undefined || stage.skip === stage.input || lastUse[stage.skip] !== k) return undefined;
  const skip = planes[stage.skip];
  return skip && skip.height === height && skip.width === width ? skip : undefined;
}

function toPlane(data: Float32Array, dims: readonly number[]): Plane {
  if (dims.length !== 4 || dims[0] !== 1) throw new InvalidModelError(`strip decoder head gave [${dims.join(', ')}], expected [1, C, H, W]`);
  return { channels: dims[1], height: dims[2], width: dims[3], data };
}

/** The feeds of one strip of output rows `[top, bottom)` of stage `k`. */
function stripFeeds(
  plan: StripDecoderPlan,
  stage: Exclude<StripStage, { kind: 'head' }>,
  k: number,
  input: Plane,
  planes: readonly (Plane | undefined)[],
  top: number,
  bottom: number,
  buffers: StripBuffers,
): Record<string, HostTensor> {
  const names = stripNames(k);
  if (stage.kind === 'upsample') {
    // Output rows [top, bottom) read upsampled rows [top−1, bottom+1): input rows [top/2−1, bottom/2+1).
    return { [names.x]: rowsWithHalo(input, top / 2 - 1, bottom / 2 + 1, buffers, 'x') };
  }
  input.stats ??= groupStatistics(input.data, input.channels, plan.groups, plan.epsilon, { graph: plan.graph, output: stripNames(stage.input).y });
  const first = top - 1;
  const last = bottom + 1;
  const mask = new Float32Array(last - first);
  for (let r = first; r < last; r++) mask[r - first] = r >= 0 && r < input.height ? 1 : 0;
  const feeds: Record<string, HostTensor> = {
    [names.x]: rowsWithHalo(input, first, last, buffers, 'x'),
    [names.mean]: float32([plan.groups], input.stats.mean),
    [names.rstd]: float32([plan.groups], input.stats.rstd),
    [names.mask]: float32([mask.length], mask),
  };
  if (stage.skip !== undefined) feeds[names.skip] = rowsWithHalo(planes[stage.skip]!, top, bottom, buffers, 'skip');
  return feeds;
}

/** Minimal inputs for stage `k` while another stage runs: three rows of width one. */
function dummyFeeds(plan: StripDecoderPlan, stage: StripStage, k: number): Record<string, HostTensor> {
  const names = stripNames(k);
  if (stage.kind === 'head') return { [names.x]: float32(stage.dummy, new Float32Array(stage.dummy.reduce((a, b) => a * b, 1))) };
  const x = { [names.x]: float32([1, stage.channels, 3, 1], new Float32Array(stage.channels * 3)) };
  if (stage.kind === 'upsample') return x;
  const feeds: Record<string, HostTensor> = {
    ...x,
    [names.mean]: float32([plan.groups], new Float32Array(plan.groups)),
    [names.rstd]: float32([plan.groups], new Float32Array(plan.groups).fill(1)),
    [names.mask]: float32([3], new Float32Array(3)),
  };
  if (stage.skip !== undefined) feeds[names.skip] = float32([1, stage.skipChannels!, 1, 1], new Float32Array(stage.skipChannels!));
  return feeds;
}
