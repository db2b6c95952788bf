import type { Dtype } from '../src/spec/manifest.js';
/**
 * Full-size Kontext converter proof (issue 15): a random checkpoint with UniPic2-SD3.5M-Kontext-2B's
 * exact shapes in its published diffusers layout (transformer 2.24 B, T5-XXL 4.76 B in two shards
 * with an index, both CLIPs, the SD3 VAE; bfloat16 safetensors as published), its conversion on
 * this machine, and one transformer call plus one T5 call on the result.
 *
 *   npx tsx bench/full-size-kontext.ts make <checkpoint-dir> [--tiny]
 *   node --import tsx bench/full-size-kontext.ts convert <checkpoint-dir> <out-dir> [--dtype q4]
 *   node --import tsx bench/full-size-kontext.ts check <out-dir> [--dtype q4] [--size 256]
 *
 * Heavy (16 GB of checkpoint, minutes of both cores): run each under `flock /work/wt/_heavy.lock`
 * on the shared machine, write under /tmp and delete afterwards. `convert` prints elapsed time and
 * peak RSS after each graph and a JSON summary; `check` session-creation and call times, output
 * shapes and finiteness. Results are in docs/performance.md.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { writeSafetensorsFile, type SafetensorsFileTensor } from '../src/convert/writers/safetensors-file-writer.js';
import { cropPositionTable } from '../src/core/diffusion/position-embedding.js';
import { convertKontextCheckpoint } from '../src/families/unipic2-kontext/convert/convert-kontext.js';
import { readKontextCheckpointConfig } from '../src/families/unipic2-kontext/convert/diffusers-configs.js';
import { expectedShapes } from '../src/families/unipic2-kontext/convert/kontext-keys.js';
import { MODEL_INDEX, TINY_KONTEXT_CONFIGS, WEIGHT_FILE, writeTokenizers } from '../src/families/unipic2-kontext/convert/tiny-kontext.js';
import { positionTableTensor, randomBf16, SCHEDULER_CONFIG, SD3_DIFFUSION_CONFIGS, writeJson } from './lib/sd3-diffusion-checkpoint.js';
import { peakRss, timedConversion } from './lib/timed-conversion.js';

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;

/** The published configs (Skywork/UniPic2-SD3.5M-Kontext-2B: SD3.5 Medium's shapes), the fields the converter reads. */
const FULL_CONFIGS = {
  ...SD3_DIFFUSION_CONFIGS,
  text_encoder: {
    architectures: ['CLIPTextModelWithProjection'],
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    projection_dim: 768,
    vocab_size: 49408,
    max_position_embeddings: 77,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    bos_token_id: 0,
    eos_token_id: 2,
    pad_token_id: 1,
  },
  text_encoder_2: {
    architectures: ['CLIPTextModelWithProjection'],
    hidden_size: 1280,
    intermediate_size: 5120,
    num_hidden_layers: 32,
    num_attention_heads: 20,
    projection_dim: 1280,
    vocab_size: 49408,
    max_position_embeddings: 77,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-5,
    bos_token_id: 0,
    eos_token_id: 2,
    pad_token_id: 1,
  },
  text_encoder_3: {
    architectures: ['T5EncoderModel'],
    d_model: 4096,
    d_ff: 10240,
    d_kv: 64,
    num_heads: 64,
    num_layers: 24,
    feed_forward_proj: 'gated-gelu',
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    vocab_size: 32128,
    layer_norm_epsilon: 1e-6,
  },
} as const;

/** `tiny`: the same chain on make-tiny's configs, to try the script in seconds. */
async function make(dir: string, tiny: boolean): Promise<void> {
  const started = Date.now();
  for (const [component, config] of Object.entries(tiny ? TINY_KONTEXT_CONFIGS : FULL_CONFIGS)) await writeJson(join(dir, component, 'config.json'), config);
  await writeJson(join(dir, 'scheduler', 'scheduler_config.json'), SCHEDULER_CONFIG);
  await writeJson(join(dir, 'model_index.json'), MODEL_INDEX);
  await writeTokenizers(dir);
  const structure = await readKontextCheckpointConfig(dir, true);
  const byComponent = new Map<string, SafetensorsFileTensor[]>();
  const params = new Map<string, number>();
  for (const [key, shape] of expectedShapes(structure, { clipL: 49408, clipG: 49408, t5: 32128 })) {
    const [component, ...rest] = key.split('.');
    const list = byComponent.get(component) ?? [];
    list.push({ name: rest.join('.'), dtype: 'bfloat16', shape, data: () => randomBf16(key, shape) });
    byComponent.set(component, list);
    params.set(component, (params.get(component) ?? 0) + shape.reduce((a, b) => a * b, 1));
  }
  byComponent.get('transformer')!.push(positionTableTensor(structure));
  for (const [component, tensors] of byComponent) {
    const componentStarted = Date.now();
    if (component !== 'text_encoder_3') {
      await writeSafetensorsFile(join(dir, component, WEIGHT_FILE[component]), tensors, { format: 'pt' });
    } else {
      const half = Math.ceil(tensors.length / 2);
      const weightMap: Record<string, string> = {};
      for (const [i, shard] of [tensors.slice(0, half), tensors.slice(half)].entries()) {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        await writeSafetensorsFile(join(dir, component, file), shard, { format: 'pt' });
        for (const tensor of shard) weightMap[tensor.name] = file;
      }
      const totalSize = tensors.reduce((sum, tensor) => sum + tensor.shape.reduce((a, b) => a * b, 1) * 2, 0);
      await writeJson(join(dir, component, 'model.safetensors.index.json'), { metadata: { total_size: totalSize }, weight_map: weightMap });
    }
    console.log(
      `${component}: ${((params.get(component) ?? 0) / 1e9).toFixed(3)} B parameters, ${((Date.now() - componentStarted) / 1000).toFixed(0)} s, peak ${gib(peakRss())}`,
    );
  }
  console.log(JSON.stringify({ params: Object.fromEntries(params), seconds: (Date.now() - started) / 1000, peakRssBytes: peakRss() }));
}

async function convert(checkpoint: string, out: string, dtypes: Dtype[]): Promise<void> {
  const started = Date.now();
  const { summary, steps, graphBytes } = await timedConversion((onProgress) => convertKontextCheckpoint(checkpoint, out, { dtypes, onProgress }));
  console.log(JSON.stringify({ seconds: (Date.now() - started) / 1000, peakRssBytes: peakRss(), graphBytes, warnings: summary.warnings, steps }, null, 2));
}

interface Manifest {
  graphs: Record<string, Record<string, { file: string }>>;
  config: {
    transformer: {
      width: number;
      jointAttentionDim: number;
      pooledProjectionDim: number;
      positionTable: { maxSize: number; baseSize: number; interpolationScale: number; rounding: 'bfloat16' | 'float32' };
    };
  };
}

/** One call of a graph: session creation, the call, output shapes and finiteness. */
async function timeGraph(path: string, feeds: Record<string, ort.Tensor>) {
  const created = performance.now();
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 2 });
  const createMs = Math.round(performance.now() - created);
  try {
    const ran = performance.now();
    const out = await session.run(feeds);
    const runMs = Math.round(performance.now() - ran);
    const outputs = Object.fromEntries(
      Object.entries(out).map(([name, tensor]) => [name, { dims: tensor.dims, finite: (tensor.data as Float32Array).every(Number.isFinite) }]),
    );
    return { createMs, runMs, outputs, peakRssBytes: peakRss() };
  } finally {
    await session.release();
  }
}

async function check(out: string, dtype: Dtype, size: number): Promise<void> {
  const manifest = JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8')) as Manifest;
  const t = manifest.config.transformer;
  const grid = size / 16;
  const n = grid * grid;
  const joint = manifest.config.transformer.jointAttentionDim;
  const pooled = manifest.config.transformer.pooledProjectionDim;
  const uniform = (count: number, seed: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233));
  const positions = cropPositionTable({ width: t.width, ...t.positionTable }, grid, grid);
  const transformer = await timeGraph(join(out, manifest.graphs.transformer[dtype].file), {
    hidden_states: new ort.Tensor('float32', uniform(n * 64, 1), [1, n, 64]),
    ref_hidden_states: new ort.Tensor('float32', new Float32Array(0), [1, 0, 64]),
    pos_embed: new ort.Tensor('float32', positions, [1, n, t.width]),
    encoder_hidden_states: new ort.Tensor('float32', uniform(333 * joint, 2), [1, 333, joint]),
    pooled_projections: new ort.Tensor('float32', uniform(pooled, 3), [1, pooled]),
    timestep: new ort.Tensor('float32', new Float32Array([500]), [1]),
  });
  console.log(JSON.stringify({ transformer }));
  const ids = BigInt64Array.from({ length: 256 }, (_, i) => BigInt(i < 12 ? 100 + i * 37 : i === 12 ? 1 : 0));
  const t5 = await timeGraph(join(out, manifest.graphs.t5_encoder[dtype].file), { input_ids: new ort.Tensor('int64', ids, [1, 256]) });
  console.log(JSON.stringify({ dtype, size, tokens: { image: n, text: 333 }, transformer, t5, peakRssBytes: peakRss() }, null, 2));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { dtype: { type: 'string' }, size: { type: 'string' }, tiny: { type: 'boolean' } } });
  const [command, ...paths] = positionals;
  if (command === 'make' && paths.length === 1) return make(paths[0], values.tiny ?? false);
  if (command === 'convert' && paths.length === 2) return convert(paths[0], paths[1], (values.dtype ?? 'q4').split(',') as Dtype[]);
  if (command === 'check' && paths.length === 1) return check(paths[0], (values.dtype ?? 'q4') as Dtype, Number(values.size ?? 256));
  throw new Error(
    'usage: full-size-kontext.ts make <checkpoint-dir> [--tiny] | convert <checkpoint-dir> <out-dir> [--dtype q4] | check <out-dir> [--dtype q4] [--size 256]',
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
