import type { WeightSource } from '../../../../../src/convert/graphs/weights.js';
import type { VaeGraphConfig } from '../../../../../src/families/unipic1/convert/graphs/vae/vae-config.js';
import { softmaxInPlace } from '../../mar/support/float64-math.js';

/** float64 oracle for the VAE graphs (one image at a time), written from LDM's PyTorch modules. */

export interface Image {
  channels: number;
  height: number;
  width: number;
  /** `[channels, height, width]` row-major. */
  data: Float64Array;
}

const EPS = 1e-6;

/** Conv2d with zero padding `[top, left, bottom, right]`, as torch `F.pad` followed by a valid conv. */
function conv(w: WeightSource, x: Image, prefix: string, stride = 1, pads?: [number, number, number, number]): Image {
  const [out, inChannels, kernel] = w.shape(`${prefix}.weight`);
  const weight = w.float32(`${prefix}.weight`);
  const bias = w.float32(`${prefix}.bias`);
  const margin = (kernel - 1) / 2;
  const [top, left, bottom, right] = pads ?? [margin, margin, margin, margin];
  const height = Math.floor((x.height + top + bottom - kernel) / stride) + 1;
  const width = Math.floor((x.width + left + right - kernel) / stride) + 1;
  const data = new Float64Array(out * height * width);
  for (let o = 0; o < out; o++)
    for (let y = 0; y < height; y++)
      for (let xx = 0; xx < width; xx++) {
        let sum = bias[o];
        for (let c = 0; c < inChannels; c++)
          for (let ky = 0; ky < kernel; ky++) {
            const sy = y * stride + ky - top;
            if (sy < 0 || sy >= x.height) continue;
            for (let kx = 0; kx < kernel; kx++) {
              const sx = xx * stride + kx - left;
              if (sx < 0 || sx >= x.width) continue;
              sum += weight[((o * inChannels + c) * kernel + ky) * kernel + kx] * x.data[(c * x.height + sy) * x.width + sx];
            }
          }
        data[(o * height + y) * width + xx] = sum;
      }
  return { channels: out, height, width, data };
}

function groupNorm(w: WeightSource, x: Image, prefix: string, groups: number): Image {
  const scale = w.float32(`${prefix}.weight`);
  const bias = w.float32(`${prefix}.bias`);
  const perGroup = x.channels / groups;
  const plane = x.height * x.width;
  const data = new Float64Array(x.data.length);
  for (let g = 0; g < groups; g++) {
    const start = g * perGroup * plane;
    const count = perGroup * plane;
    let mean = 0;
    for (let i = 0; i < count; i++) mean += x.data[start + i];
    mean /= count;
    let variance = 0;
    for (let i = 0; i < count; i++) variance += (x.data[start + i] - mean) ** 2;
    variance /= count;
    const inverse = 1 / Math.sqrt(variance + EPS);
    for (let i = 0; i < count; i++) {
      const channel = g * perGroup + Math.floor(i / plane);
      data[start + i] = (x.data[start + i] - mean) * inverse * scale[channel] + bias[channel];
    }
  }
  return { ...x, data };
}

function swish(x: Image): Image {
  return { ...x, data: x.data.map((v) => v / (1 + Math.exp(-v))) };
}

function plus(a: Image, b: Image): Image {
  return { ...a, data: a.data.map((v, i) => v + b.data[i]) };
}

function resnet(w: WeightSource, x: Image, prefix: string, groups: number): Image {
  let h = conv(w, swish(groupNorm(w, x, `${prefix}.norm1`, groups)), `${prefix}.conv1`);
  h = conv(w, swish(groupNorm(w, h, `${prefix}.norm2`, groups)), `${prefix}.conv2`);
  const shortcut = w.has(`${prefix}.nin_shortcut.weight`) ? conv(w, x, `${prefix}.nin_shortcut`) : x;
  return plus(shortcut, h);
}

function attention(w: WeightSource, x: Image, prefix: string, groups: number): Image {
  const normed = groupNorm(w, x, `${prefix}.norm`, groups);
  const q = conv(w, normed, `${prefix}.q`);
  const k = conv(w, normed, `${prefix}.k`);
  const v = conv(w, normed, `${prefix}.v`);
  const positions = x.height * x.width;
  const C = x.channels;
  const out = new Float64Array(C * positions);
  const scores = new Float64Array(positions);
  for (let i = 0; i < positions; i++) {
    for (let j = 0; j < positions; j++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += q.data[c * positions + i] * k.data[c * positions + j];
      scores[j] = dot * C ** -0.5;
    }
    softmaxInPlace(scores);
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let j = 0; j < positions; j++) sum += scores[j] * v.data[c * positions + j];
      out[c * positions + i] = sum;
    }
  }
  return plus(x, conv(w, { ...x, data: out }, `${prefix}.proj_out`));
}

function nearestDouble(x: Image): Image {
  const height = x.height * 2;
  const width = x.width * 2;
  const data = new Float64Array(x.channels * height * width);
  for (let c = 0; c < x.channels; c++)
    for (let y = 0; y < height; y++)
      for (let xx = 0; xx < width; xx++) data[(c * height + y) * width + xx] = x.data[(c * x.height + (y >> 1)) * x.width + (xx >> 1)];
  return { channels: x.channels, height, width, data };
}

/** pixels `[3, S, S]` → latents `[S/16, S/16, embedDim]` (scaled mean). */
export function vaeEncoderReference(w: WeightSource, config: VaeGraphConfig, pixels: Image): Float64Array {
  const g = config.groups;
  let h = conv(w, pixels, 'vae.encoder.conv_in');
  for (let level = 0; level < config.chMult.length; level++) {
    for (let block = 0; block < config.numResBlocks; block++) {
      h = resnet(w, h, `vae.encoder.down.${level}.block.${block}`, g);
      if (config.encoderAttentionLevels.includes(level)) h = attention(w, h, `vae.encoder.down.${level}.attn.${block}`, g);
    }
    if (level !== config.chMult.length - 1) h = conv(w, h, `vae.encoder.down.${level}.downsample.conv`, 2, [0, 0, 1, 1]);
  }
  h = resnet(w, h, 'vae.encoder.mid.block_1', g);
  h = attention(w, h, 'vae.encoder.mid.attn_1', g);
  h = resnet(w, h, 'vae.encoder.mid.block_2', g);
  h = conv(w, swish(groupNorm(w, h, 'vae.encoder.norm_out', g)), 'vae.encoder.conv_out');
  const moments = conv(w, h, 'vae.quant_conv');
  const plane = moments.height * moments.width;
  const out = new Float64Array(plane * config.embedDim);
  for (let p = 0; p < plane; p++) for (let c = 0; c < config.embedDim; c++) out[p * config.embedDim + c] = moments.data[c * plane + p] * config.scale;
  return out;
}

/** latents `[m, n, embedDim]` (scaled) → pixels `[3, 16m, 16n]`. */
export function vaeDecoderReference(w: WeightSource, config: VaeGraphConfig, latents: ArrayLike<number>, m: number, n: number): Image {
  const g = config.groups;
  const E = config.embedDim;
  const data = new Float64Array(E * m * n);
  for (let p = 0; p < m * n; p++) for (let c = 0; c < E; c++) data[c * m * n + p] = latents[p * E + c] / config.scale;
  let h = conv(w, { channels: E, height: m, width: n, data }, 'vae.post_quant_conv');
  h = conv(w, h, 'vae.decoder.conv_in');
  h = resnet(w, h, 'vae.decoder.mid.block_1', g);
  h = attention(w, h, 'vae.decoder.mid.attn_1', g);
  h = resnet(w, h, 'vae.decoder.mid.block_2', g);
  for (let level = config.chMult.length - 1; level >= 0; level--) {
    for (let block = 0; block <= config.numResBlocks; block++) h = resnet(w, h, `vae.decoder.up.${level}.block.${block}`, g);
    if (level !== 0) h = conv(w, nearestDouble(h), `vae.decoder.up.${level}.upsample.conv`);
  }
  return conv(w, swish(groupNorm(w, h, 'vae.decoder.norm_out', g)), 'vae.decoder.conv_out');
}
