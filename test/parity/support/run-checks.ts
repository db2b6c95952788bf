import { expect } from 'vitest';
import { NodeOrtBackend } from '../../../adapters/node-ort/index.js';
import { UniPic } from '../../../src/index.node.js';
import { goldenFloat32, goldenInt64, goldenUint8, referenceIndex, relativeError } from '../../support/reference.js';
import { recordingBackend, type GraphCall } from './recording-backend.js';
import { ReplayRandom } from './replay-random.js';

// Checks of a replayed oracle run, stage by stage (tolerances: test/fixtures/reference/README.md).
export const TOLERANCE = 1e-4;

export function floats(t: { data: unknown }): Float32Array {
  return t.data as Float32Array;
}
export function ints(t: { data: unknown }): number[] {
  return Array.from(t.data as BigInt64Array, Number);
}

export async function replay(
  modelDir: string,
  run: string,
  call: (model: UniPic, random: ReplayRandom) => Promise<{ images: { data: Uint8ClampedArray; width: number; height: number }[] }>,
) {
  const { backend, calls } = recordingBackend(new NodeOrtBackend());
  const model = await UniPic.load(modelDir, { backend, device: 'cpu', dtype: 'fp32' });
  try {
    const random = new ReplayRandom(run);
    const result = await call(model, random);
    return { calls, result, random };
  } finally {
    await model.dispose();
    await backend.dispose();
  }
}

export function checkIterations(run: string, calls: GraphCall[]) {
  const settings = referenceIndex.runs[run].settings;
  const encoders = calls.filter((c) => c.graph === 'mar_encoder').slice(-settings.numIter);
  const llm = calls.filter((c) => c.graph === 'llm').slice(-settings.numIter);
  const decoders = calls.filter((c) => c.graph === 'mar_decoder');
  expect(decoders).toHaveLength(settings.numIter);
  for (let i = 0; i < settings.numIter; i++) {
    const prefix = `${run}.iter.${i}`;
    expect(relativeError(floats(encoders[i].feeds.latents), goldenFloat32(`${prefix}.latents`)), `${prefix}.latents`).toBeLessThanOrEqual(TOLERANCE);
    expect(relativeError(floats(encoders[i].outputs.x_enc), goldenFloat32(`${prefix}.x_enc`)), `${prefix}.x_enc`).toBeLessThanOrEqual(TOLERANCE);
    expect(relativeError(floats(encoders[i].outputs.llm_in), goldenFloat32(`${prefix}.llm_in`)), `${prefix}.llm_in`).toBeLessThanOrEqual(TOLERANCE);
    expect(ints(llm[i].feeds.attention_mask), `${prefix}.attention_mask`).toEqual(goldenInt64(`${prefix}.attention_mask`));
    expect(ints(llm[i].feeds.position_ids), `${prefix}.position_ids`).toEqual(goldenInt64(`${prefix}.position_ids`));
    expect(relativeError(floats(llm[i].outputs.last_hidden_state), goldenFloat32(`${prefix}.llm_out`)), `${prefix}.llm_out`).toBeLessThanOrEqual(TOLERANCE);
    expect(ints(decoders[i].feeds.scatter_idx), `${prefix}.scatter_idx`).toEqual(goldenInt64(`${prefix}.scatter_idx`));
    expect(relativeError(floats(decoders[i].outputs.z), goldenFloat32(`${prefix}.z`)), `${prefix}.z`).toBeLessThanOrEqual(TOLERANCE);
  }
}

export function checkFinal(run: string, calls: GraphCall[], images: { data: Uint8ClampedArray; width: number; height: number }[]) {
  const vae = calls.filter((c) => c.graph === 'vae_decoder').at(-1)!;
  expect(relativeError(floats(vae.feeds.latents), goldenFloat32(`${run}.latents`)), `${run}.latents`).toBeLessThanOrEqual(TOLERANCE);
  expect(relativeError(floats(vae.outputs.pixels), goldenFloat32(`${run}.decoded`)), `${run}.decoded`).toBeLessThanOrEqual(TOLERANCE);
  const expected = goldenUint8(`${run}.pixels`); // [G, S, S, 3]
  let worst = 0;
  images.forEach((image, g) => {
    const plane = image.width * image.height;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(image.data[i * 4 + c] - expected[(g * plane + i) * 3 + c]));
    }
  });
  expect(worst, `${run}.pixels max difference`).toBeLessThanOrEqual(1);
}

export function checkPrefix(run: string, calls: GraphCall[]) {
  const embed = calls.find((c) => c.graph === 'embed')!;
  expect(ints(embed.feeds.input_ids), `${run}.prompt.input_ids`).toEqual(goldenInt64(`${run}.prompt.input_ids`));
  const prefill = calls.filter((c) => c.graph === 'llm')[0];
  expect(relativeError(floats(prefill.feeds.inputs_embeds), goldenFloat32(`${run}.prefix_embeds`)), `${run}.prefix_embeds`).toBeLessThanOrEqual(TOLERANCE);
  // The first prefill run starts from an empty cache: its new keys are the whole present (in-place graph).
  const key = prefill.outputs['new_key_values.0.key'] ?? prefill.outputs['present.0.key'];
  expect(relativeError(floats(key), goldenFloat32(`${run}.prefix.present.0.key`))).toBeLessThanOrEqual(TOLERANCE);
}
