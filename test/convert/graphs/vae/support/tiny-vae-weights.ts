import { MemoryWeights, type WeightSource } from '../../../../../src/convert/graphs/weights.js';
import { vaeConfigFromJson, type VaeGraphConfig } from '../../../../../src/families/unipic1/convert/graphs/vae/vae-config.js';
import tinyConfig from '../../../../../src/families/unipic1/convert/tiny/tiny-config.json';
import { randomArray } from '../../layers/support/graph-runner.js';

export const TINY_VAE_CONFIG: VaeGraphConfig = vaeConfigFromJson(tinyConfig.vae);

/**
 * Random KL-16 weights under kl16.ckpt's key names (prefixed `vae.`), following LDM's module
 * construction. Conv kernels are uniform with a 1/√fan-in scale; GroupNorm scales are near 1.
 */
export function tinyVaeWeights(config: VaeGraphConfig = TINY_VAE_CONFIG, seed = 500): MemoryWeights {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, spec] of Object.entries(vaeWeightSpecs(config, seed))) tensors[name] = { shape: spec.shape, data: generate(spec) };
  return new MemoryWeights(tensors);
}

/**
 * The same weights generated on demand and never kept, for real-size structure checks where
 * holding every tensor twice (source and graph) would be wasteful.
 */
export class LazyRandomWeights implements WeightSource {
  constructor(private readonly specs: Record<string, WeightSpec>) {}
  has(name: string): boolean {
    return name in this.specs;
  }
  shape(name: string): readonly number[] {
    return this.spec(name).shape;
  }
  float32(name: string): Float32Array {
    return generate(this.spec(name));
  }
  private spec(name: string): WeightSpec {
    const spec = this.specs[name];
    if (!spec) throw new Error(`missing weight ${name}`);
    return spec;
  }
}

export interface WeightSpec {
  shape: number[];
  seed: number;
  scale: number;
  offset: number;
}

function generate(spec: WeightSpec): Float32Array {
  const data = randomArray(
    spec.shape.reduce((a, b) => a * b, 1),
    spec.seed,
    spec.scale,
  );
  if (spec.offset) for (let i = 0; i < data.length; i++) data[i] += spec.offset;
  return data;
}

/** Every kl16.ckpt key (prefixed `vae.`) for `config`, with how to generate it. */
export function vaeWeightSpecs(config: VaeGraphConfig, seed = 500): Record<string, WeightSpec> {
  const specs: Record<string, WeightSpec> = {};
  let next = seed;
  const put = (name: string, shape: number[], scale: number, offset = 0): void => {
    specs[`vae.${name}`] = { shape, seed: next++, scale, offset };
  };
  const conv = (prefix: string, out: number, inChannels: number, kernel: number): void => {
    put(`${prefix}.weight`, [out, inChannels, kernel, kernel], Math.sqrt(3 / (inChannels * kernel * kernel)));
    put(`${prefix}.bias`, [out], 0.1);
  };
  const norm = (prefix: string, channels: number): void => {
    put(`${prefix}.weight`, [channels], 0.2, 1);
    put(`${prefix}.bias`, [channels], 0.1);
  };
  const resnet = (prefix: string, inChannels: number, out: number): void => {
    norm(`${prefix}.norm1`, inChannels);
    conv(`${prefix}.conv1`, out, inChannels, 3);
    norm(`${prefix}.norm2`, out);
    conv(`${prefix}.conv2`, out, out, 3);
    if (inChannels !== out) conv(`${prefix}.nin_shortcut`, out, inChannels, 1);
  };
  const attention = (prefix: string, channels: number): void => {
    norm(`${prefix}.norm`, channels);
    for (const part of ['q', 'k', 'v', 'proj_out']) conv(`${prefix}.${part}`, channels, channels, 1);
  };
  const { ch, chMult, numResBlocks, zChannels, embedDim } = config;
  const levels = chMult.length;
  const deepest = ch * chMult[levels - 1];

  conv('encoder.conv_in', ch, 3, 3);
  let channels = ch;
  for (let level = 0; level < levels; level++) {
    const out = ch * chMult[level];
    for (let block = 0; block < numResBlocks; block++) {
      resnet(`encoder.down.${level}.block.${block}`, channels, out);
      channels = out;
      if (config.encoderAttentionLevels.includes(level)) attention(`encoder.down.${level}.attn.${block}`, channels);
    }
    if (level !== levels - 1) conv(`encoder.down.${level}.downsample.conv`, channels, channels, 3);
  }
  resnet('encoder.mid.block_1', channels, channels);
  attention('encoder.mid.attn_1', channels);
  resnet('encoder.mid.block_2', channels, channels);
  norm('encoder.norm_out', channels);
  conv('encoder.conv_out', 2 * zChannels, channels, 3);
  conv('quant_conv', 2 * embedDim, 2 * zChannels, 1);

  conv('post_quant_conv', embedDim, embedDim, 1);
  conv('decoder.conv_in', deepest, zChannels, 3);
  resnet('decoder.mid.block_1', deepest, deepest);
  attention('decoder.mid.attn_1', deepest);
  resnet('decoder.mid.block_2', deepest, deepest);
  channels = deepest;
  for (let level = levels - 1; level >= 0; level--) {
    const out = ch * chMult[level];
    for (let block = 0; block <= numResBlocks; block++) {
      resnet(`decoder.up.${level}.block.${block}`, channels, out);
      channels = out;
    }
    if (level !== 0) conv(`decoder.up.${level}.upsample.conv`, channels, channels, 3);
  }
  norm('decoder.norm_out', channels);
  conv('decoder.conv_out', 3, channels, 3);
  return specs;
}
