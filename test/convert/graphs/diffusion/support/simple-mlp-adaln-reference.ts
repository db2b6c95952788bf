import type { WeightSource } from '../../../../../src/convert/graphs/weights.js';

/**
 * Float64 SimpleMLPAdaLN (MAR DiffLoss net) from its definition, with plain loops: the oracle for
 * the diffusion_head graph. `argumentRounding` rounds t·f to float32 like torch does (it moves
 * angles near t = 999 by up to ~6e-5); the rest stays float64.
 */
export function simpleMlpAdaLnReference(
  weights: WeightSource,
  depth: number,
  x: ArrayLike<number>,
  t: ArrayLike<number>,
  c: ArrayLike<number>,
  options: { argumentRounding?: boolean } = {},
): Float64Array {
  const net = 'mar.diffloss.net';
  const rows = t.length;
  const w = (name: string) => weights.float32(name);
  const dense = (input: Float64Array, name: string) => {
    const [out, inFeatures] = weights.shape(`${name}.weight`);
    const weight = w(`${name}.weight`);
    const bias = w(`${name}.bias`);
    const y = new Float64Array(rows * out);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < out; o++) {
        let sum = bias[o];
        for (let i = 0; i < inFeatures; i++) sum += input[r * inFeatures + i] * weight[o * inFeatures + i];
        y[r * out + o] = sum;
      }
    return y;
  };
  const silu = (v: Float64Array) => v.map((a) => a / (1 + Math.exp(-a)));
  const norm = (v: Float64Array, width: number, scale?: Float32Array, shift?: Float32Array) => {
    const out = new Float64Array(v.length);
    for (let r = 0; r < rows; r++) {
      let mean = 0;
      for (let i = 0; i < width; i++) mean += v[r * width + i] / width;
      let variance = 0;
      for (let i = 0; i < width; i++) variance += (v[r * width + i] - mean) ** 2 / width;
      for (let i = 0; i < width; i++) {
        const n = (v[r * width + i] - mean) / Math.sqrt(variance + 1e-6);
        out[r * width + i] = n * (scale ? scale[i] : 1) + (shift ? shift[i] : 0);
      }
    }
    return out;
  };
  /** Part `part` of `parts` equal chunks along the last axis. */
  const piece = (v: Float64Array, parts: number, part: number) => {
    const width = v.length / rows / parts;
    const out = new Float64Array(rows * width);
    for (let r = 0; r < rows; r++) for (let i = 0; i < width; i++) out[r * width + i] = v[r * width * parts + part * width + i];
    return out;
  };

  const features = new Float64Array(rows * 256);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < 128; i++) {
      let angle = Number(t[r]) * Math.exp((-Math.log(10000) * i) / 128);
      if (options.argumentRounding) angle = Math.fround(angle);
      features[r * 256 + i] = Math.cos(angle);
      features[r * 256 + 128 + i] = Math.sin(angle);
    }
  }
  const time = dense(silu(dense(features, `${net}.time_embed.mlp.0`)), `${net}.time_embed.mlp.2`);
  const condition = dense(Float64Array.from(c), `${net}.cond_embed`);
  const y = silu(time.map((v, i) => v + condition[i]));
  let h = dense(Float64Array.from(x), `${net}.input_proj`);
  const width = h.length / rows;
  for (let b = 0; b < depth; b++) {
    const block = `${net}.res_blocks.${b}`;
    const modulation = dense(y, `${block}.adaLN_modulation.1`);
    const [shift, scale, gate] = [0, 1, 2].map((p) => piece(modulation, 3, p));
    const normed = norm(h, width, w(`${block}.in_ln.weight`), w(`${block}.in_ln.bias`));
    const modulated = normed.map((v, i) => v * (1 + scale[i]) + shift[i]);
    const inner = dense(silu(dense(modulated, `${block}.mlp.0`)), `${block}.mlp.2`);
    h = h.map((v, i) => v + gate[i] * inner[i]);
  }
  const modulation = dense(y, `${net}.final_layer.adaLN_modulation.1`);
  const [shift, scale] = [0, 1].map((p) => piece(modulation, 2, p));
  const normed = norm(h, width);
  return dense(
    normed.map((v, i) => v * (1 + scale[i]) + shift[i]),
    `${net}.final_layer.linear`,
  );
}
