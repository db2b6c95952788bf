import type { DiffusionResult, DiffusionRunEvent } from '../../../core/diffusion/diffusion-events.js';
import { signedPixels } from '../../../core/diffusion/edit-image.js';
import { postprocess } from '../../../core/diffusion/vae-pixels.js';
import type { RgbImage } from '../../../core/image/rgb-image.js';
import type { RandomSource } from '../../../core/random/random-source.js';
import type { RunController } from '../../../core/run/run.js';
import { float32, takeFloat32 } from '../../../core/tensor.js';
import { throwIfAborted } from '../../../errors/abort-error.js';
import { packLatents, unpackLatents } from '../latents/pack-latents.js';
import { type PackedGrid, qwenRopeTables } from '../latents/rope-tables.js';
import { distilledStep, distilledTimes, distilledTimestep } from '../sampling/distilled-sampler.js';
import { teacherModelTimestep, teacherSigmas, teacherStep } from '../sampling/teacher-sampler.js';
import { trueCfgNormRescale } from '../sampling/true-cfg.js';
import { UNCONDITIONAL_PROMPT } from '../text/edit-prompt.js';
import { encodeUnipic3Prompt, encodeVisionImages } from '../text/encode-prompt.js';
import { prepareImages } from './prepare-images.js';
import { type TransformerText, transformerForward } from './transformer-forward.js';
import type { Unipic3Config, Unipic3Graphs } from './unipic3-graphs.js';

export interface Unipic3EditInput {
  readonly images: readonly RgbImage[];
  readonly prompt: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  /** True-CFG scale; 1 skips the `" "` pass (half the transformer cost). */
  readonly guidance: number;
  readonly seed: number;
  readonly random: RandomSource;
  readonly signal?: AbortSignal;
}

export interface Unipic3EditContext {
  readonly graphs: Unipic3Graphs;
  readonly config: Unipic3Config;
  readonly encode: (text: string) => number[];
}

/**
 * A UniPic-3 edit (as UniPic-3's `qwen_image_edit` pipelines): inputs budget-sized, the prompt (and `" "` with the same images
 * when guidance > 1) through Qwen2.5-VL, each input VAE-encoded and packed as a reference frame after
 * the target, then the teacher's Euler steps or the distilled x0 / re-noise steps with true CFG and
 * norm rescale, the target's tokens unpacked and decoded.
 */
export async function editUnipic3(context: Unipic3EditContext, controller: RunController<DiffusionRunEvent>, input: Unipic3EditInput): Promise<DiffusionResult> {
  const { graphs, config } = context;
  const { signal } = input;
  const started = performance.now();
  const prepared = prepareImages(input.images);
  const vision = await encodeVisionImages(
    graphs,
    config.textEncoder,
    prepared.map((p) => p.vl),
    signal,
  );
  const cond = await encodeUnipic3Prompt(graphs, config.textEncoder, context.encode, input.prompt, vision, signal);
  const uncond = input.guidance > 1 ? await encodeUnipic3Prompt(graphs, config.textEncoder, context.encode, UNCONDITIONAL_PROMPT, vision, signal) : undefined;

  const z = config.vae.zDim;
  const cell = config.vae.scale;
  const references: Float32Array[] = [];
  const grids: PackedGrid[] = [{ height: input.height / cell / 2, width: input.width / cell / 2 }];
  for (const { sized } of prepared) {
    throwIfAborted(signal);
    const out = await graphs.run('vae_encoder', { pixels: float32([1, 3, sized.height, sized.width], signedPixels(sized)) }, { signal, outputs: ['latents'] });
    const h = sized.height / cell;
    const w = sized.width / cell;
    references.push(packLatents((await takeFloat32(out.latents)).data, z, h, w));
    grids.push({ height: h / 2, width: w / 2 });
  }
  const targetTokens = grids[0].height * grids[0].width;
  const tokens = grids.reduce((sum, g) => sum + g.height * g.width, 0);
  const text = (encoded: typeof cond): TransformerText => ({
    embeds: encoded.embeds,
    length: encoded.length,
    rope: qwenRopeTables(grids, encoded.length, config.transformer.axesDims),
  });
  const condText = text(cond);
  const uncondText = uncond ? text(uncond) : undefined;
  const encodeMs = performance.now() - started;

  const C = config.transformer.inChannels;
  const latentH = input.height / cell;
  const latentW = input.width / cell;
  let x = packLatents(input.random.normal(z * latentH * latentW, { kind: 'initial-latent' }), z, latentH, latentW);
  const all = new Float32Array(tokens * C);
  const velocity = async (timestep: number): Promise<Float32Array> => {
    all.set(x, 0);
    let offset = targetTokens * C;
    for (const ref of references) {
      all.set(ref, offset);
      offset += ref.length;
    }
    const v = await transformerForward(graphs, config, all, tokens, condText, timestep, targetTokens, signal);
    if (!uncondText) return v;
    const u = await transformerForward(graphs, config, all, tokens, uncondText, timestep, targetTokens, signal);
    return trueCfgNormRescale(v, u, input.guidance, C);
  };

  const samplingStarted = performance.now();
  if (config.sampler === 'teacher') {
    const sigmas = teacherSigmas(input.steps, targetTokens, config.scheduler);
    for (let i = 0; i < input.steps; i++) {
      const stepStarted = performance.now();
      controller.emit({ type: 'step-start', step: i, steps: input.steps });
      x = teacherStep(x, await velocity(teacherModelTimestep(sigmas[i])), sigmas, i);
      controller.emit({ type: 'step-finish', step: i, steps: input.steps, elapsedMs: performance.now() - stepStarted });
    }
  } else {
    const times = distilledTimes(input.steps, targetTokens, config.scheduler);
    for (let i = 0; i < input.steps; i++) {
      const stepStarted = performance.now();
      controller.emit({ type: 'step-start', step: i, steps: input.steps });
      const v = await velocity(distilledTimestep(times, i));
      // Drawn on the last step too (t_N = 0 leaves it unused), as the official loop does.
      const noise = input.random.normal(x.length, { kind: 'sampler-noise', step: i });
      x = distilledStep(x, v, packLatents(noise, z, latentH, latentW), times, i);
      controller.emit({ type: 'step-finish', step: i, steps: input.steps, elapsedMs: performance.now() - stepStarted });
    }
  }
  const samplingMs = performance.now() - samplingStarted;

  const decodeStarted = performance.now();
  const latent = unpackLatents(x, z, latentH, latentW);
  const dims = [1, z, latentH, latentW];
  const decoded = await takeFloat32((await graphs.run('vae_decoder', { latents: float32(dims, latent) }, { signal, outputs: ['pixels'] })).pixels);
  const images = postprocess(decoded.data, decoded.dims);
  const timings = { encodeMs, samplingMs, decodeMs: performance.now() - decodeStarted, totalMs: performance.now() - started };
  controller.emit({ type: 'finish', timings });
  return { images, seed: input.seed, width: input.width, height: input.height, latent: { dims, data: latent }, timings };
}
