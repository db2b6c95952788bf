/**
 * One UniPic2-SD3.5M-Kontext transformer call at full widths (1536 wide, 24 heads × 64, joint 4096,
 * pooled 2048) and reduced depth, on onnxruntime-node CPU, fp32 and q4: the ONNX half of the
 * issue's "one transformer step at 512²" benchmark. The PyTorch half is
 * `tools/reference/unipic2_reference/time_transformer_step.py --transformer <dir>` on the folder this
 * script writes (`--write <dir>`: a diffusers `transformer/` with the same random weights).
 *
 *   npx tsx bench/kontext-transformer-step.ts [--layers 2] [--size 512] [--edit] [--repeats 3] [--write DIR]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { MemoryWeights } from '../src/convert/graphs/weights.js';
import { GraphBuilder } from '../src/convert/onnx/graph-builder.js';
import { FileWeightSink } from '../src/convert/onnx/weight-sink.js';
import { buildMmditGraph, type MmditConfig } from '../src/convert/graphs/mmdit/mmdit-graph.js';
import { expectedShapes } from '../src/families/unipic2-kontext/convert/kontext-keys.js';
import type { KontextCheckpointConfig } from '../src/families/unipic2-kontext/convert/diffusers-configs.js';
import { encodeSafetensors } from '../src/formats/safetensors-encoder.js';
import { cropPositionTable } from '../src/core/diffusion/position-embedding.js';
import { fillUniform, hashString } from './lib/fast-random.js';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '2' },
    size: { type: 'string', default: '512' },
    edit: { type: 'boolean' },
    repeats: { type: 'string', default: '3' },
    write: { type: 'string' },
  },
});
const layers = Number(values.layers);
const size = Number(values.size);
const repeats = Number(values.repeats);
const config: MmditConfig = {
  width: 1536,
  heads: 24,
  headDim: 64,
  layers,
  patchSize: 2,
  inChannels: 16,
  outChannels: 16,
  jointAttentionDim: 4096,
  pooledProjectionDim: 2048,
  dualAttentionLayers: Array.from({ length: Math.min(13, Math.max(1, layers - 1)) }, (_, i) => i),
};

// Only the transformer's shapes are needed; the rest of the structure is filler.
const structure = {
  transformer: { ...config, sampleSize: 128, posEmbedMaxSize: 384 },
  vae: {
    blockOutChannels: [8],
    layersPerBlock: 1,
    latentChannels: 16,
    groups: 4,
    useQuantConv: false,
    usePostQuantConv: false,
    midBlockAttention: false,
    scalingFactor: 1,
    shiftFactor: 0,
  },
  clipL: { hiddenSize: 8, intermediateSize: 8, layers: 1, heads: 1, maxPositions: 1, projectionDim: 8, activation: 'gelu', layerNormEps: 1e-5, eosTokenId: 2 },
  clipG: { hiddenSize: 8, intermediateSize: 8, layers: 1, heads: 1, maxPositions: 1, projectionDim: 8, activation: 'gelu', layerNormEps: 1e-5, eosTokenId: 2 },
  scheduler: { numTrainTimesteps: 1000, shift: 3 },
} satisfies KontextCheckpointConfig;
const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
for (const [key, shape] of expectedShapes(structure, { clipL: 1, clipG: 1, t5: 1 })) {
  if (!key.startsWith('transformer.')) continue;
  const count = shape.reduce((a, b) => a * b, 1);
  const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const gain = key.endsWith('.weight') && shape.length === 1;
  tensors[key] = {
    shape: [...shape],
    data: fillUniform(new Float32Array(count), hashString(key), gain ? 0.05 : shape.length >= 2 ? 1 / Math.sqrt(fanIn) : 0.02, gain ? 1 : 0),
  };
}
const weights = new MemoryWeights(tensors);
const params = Object.values(tensors).reduce((sum, t) => sum + t.data.length, 0);

if (values.write) {
  const folder = join(values.write, 'transformer');
  mkdirSync(folder, { recursive: true });
  const table = cropPositionTable({ width: 1536, maxSize: 384, baseSize: 64, interpolationScale: 1, rounding: 'float32' }, 384, 384);
  const entries = Object.entries(tensors).map(([key, t]) => ({
    name: key.slice('transformer.'.length),
    dtype: 'float32' as const,
    shape: t.shape,
    data: new Uint8Array(t.data.buffer),
  }));
  entries.push({ name: 'pos_embed.pos_embed', dtype: 'float32', shape: [1, 384 * 384, 1536], data: new Uint8Array(table.buffer) });
  writeFileSync(join(folder, 'diffusion_pytorch_model.safetensors'), encodeSafetensors(entries));
  writeFileSync(
    join(folder, 'config.json'),
    JSON.stringify(
      {
        _class_name: 'SD3Transformer2DKontextModel',
        sample_size: 128,
        patch_size: 2,
        in_channels: 16,
        out_channels: 16,
        num_layers: layers,
        attention_head_dim: 64,
        num_attention_heads: 24,
        joint_attention_dim: 4096,
        caption_projection_dim: 1536,
        pooled_projection_dim: 2048,
        pos_embed_max_size: 384,
        dual_attention_layers: config.dualAttentionLayers,
        qk_norm: 'rms_norm',
      },
      null,
      2,
    ),
  );
}

const dir = join(tmpdir(), `kontext-step-${process.pid}`);
mkdirSync(dir, { recursive: true });
const grid = size / 16;
const n = grid * grid;
const refRows = values.edit ? n : 0;
const feeds = () => ({
  hidden_states: new ort.Tensor('float32', fillUniform(new Float32Array(2 * n * 64), 1, 1), [2, n, 64]),
  ref_hidden_states: new ort.Tensor('float32', fillUniform(new Float32Array(2 * refRows * 64), 2, 1), [2, refRows, 64]),
  pos_embed: new ort.Tensor('float32', fillUniform(new Float32Array((n + refRows) * 1536), 3, 0.5), [1, n + refRows, 1536]),
  encoder_hidden_states: new ort.Tensor('float32', fillUniform(new Float32Array(2 * 333 * 4096), 4, 1), [2, 333, 4096]),
  pooled_projections: new ort.Tensor('float32', fillUniform(new Float32Array(2 * 2048), 5, 1), [2, 2048]),
  timestep: new ort.Tensor('float32', new Float32Array([500, 500]), [2]),
});
const results: Record<string, unknown> = { layers, params, size, edit: Boolean(values.edit), tokens: { image: n + refRows, context: 333 }, batch: 2 };
try {
  for (const dtype of ['fp32', 'q4'] as const) {
    const sink = new FileWeightSink(dir, `t.${dtype}.onnx`);
    const builder = new GraphBuilder('transformer', sink);
    buildMmditGraph({ builder, weights, dtype }, config);
    writeFileSync(join(dir, `t.${dtype}.onnx`), builder.toBytes());
    sink.close();
    const session = await ort.InferenceSession.create(join(dir, `t.${dtype}.onnx`));
    const times: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const started = performance.now();
      await session.run(feeds());
      if (i) times.push(Math.round(performance.now() - started));
    }
    await session.release();
    results[dtype] = { ms: times, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(results)}\n`);
