import type { Dtype } from '../../src/spec/manifest.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildEmbedGraph } from '../../src/convert/graphs/llm/embed-graph.js';
import { buildLlmGraph, type LlmGraphOptions } from '../../src/convert/graphs/llm/llm-graph.js';
import { buildLmHeadGraph } from '../../src/convert/graphs/llm/lm-head-graph.js';
import type { LinearOptions } from '../../src/convert/graphs/layers/linear.js';
import type { GraphContext } from '../../src/convert/graphs/weights.js';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { FileWeightSink } from '../../src/convert/onnx/weight-sink.js';
import { toModelConfig, type CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { buildCausalLmGraph } from './causal-lm-graph.js';
import { DedupWeightSink } from './dedup-weight-sink.js';
import { withAccuracyLevel } from './onnx-patch.js';
import { LLM_GRAPH_SOURCES, sourceFingerprint } from './source-fingerprint.js';
import { SyntheticWeights } from './synthetic-weights.js';

/** One of our LLM decode configurations: the graphs the SDK's understanding loop runs. */
export interface OurDecodeVariant {
  readonly id: string;
  readonly dtype: Dtype;
  readonly description: string;
  readonly body?: LlmGraphOptions;
  readonly head?: LinearOptions;
  /** Derive from an earlier variant's graphs by setting every MatMulNBits `accuracy_level`. */
  readonly derive?: { readonly from: string; readonly accuracyLevel: number };
  /** Run an earlier variant's graphs with other session settings (no files of its own). */
  readonly sessions?: { readonly from: string; readonly threads?: number; readonly spinning?: boolean };
}

/** The graph files of one variant, relative to the folder's `onnx/`. */
export interface OurDecodeFiles {
  readonly embed: string;
  readonly llm: string;
  readonly lmHead: string;
}

export interface DecodeModelFolder {
  readonly root: string;
  readonly onnxDir: string;
  /** transformers.js model name under `root`'s parent (its `localModelPath`). */
  readonly ours: Record<string, OurDecodeFiles>;
  /** Bytes the decoder body + head read per token, per variant id and `tjs-<dtype>`. */
  readonly weightBytesPerToken: Record<string, number>;
}

const FORMAT_VERSION = 3;

/**
 * Builds (once; later runs reuse the folder) the decode benchmark's models from one set of seeded
 * random Qwen2.5 weights: our `embed` / `llm` / `lm_head` graphs per variant, and the
 * transformers.js causal-LM layout (`onnx/model.onnx`, `onnx/model_q4.onnx` + config.json) for
 * fp32 and q4. Identical tensors are stored once (content-addressed external data).
 */
export async function prepareDecodeModels(
  root: string,
  structure: CheckpointConfig,
  variants: readonly OurDecodeVariant[],
  log: (line: string) => void,
): Promise<DecodeModelFolder> {
  const onnxDir = join(root, 'onnx');
  const stampPath = join(root, 'bench-stamp.json');
  // Session-setting variants share files with another variant: they do not change the folder.
  const stamp = JSON.stringify({
    FORMAT_VERSION,
    structure: structure.llm,
    variants: variants.filter((v) => !v.sessions),
    sources: sourceFingerprint(LLM_GRAPH_SOURCES),
  });
  if (existsSync(stampPath) && (await readFile(stampPath, 'utf8')) === stamp) {
    return JSON.parse(await readFile(join(root, 'bench-folder.json'), 'utf8')) as DecodeModelFolder;
  }
  await rm(root, { recursive: true, force: true });
  await mkdir(onnxDir, { recursive: true });
  const config = toModelConfig(structure);
  const weights = new SyntheticWeights(structure);
  const sink = new DedupWeightSink(new FileWeightSink(onnxDir, 'weights'));
  const weightBytesPerToken: Record<string, number> = {};
  const ours: Record<string, OurDecodeFiles> = {};
  try {
    for (const dtype of ['fp32', 'q4'] as const) {
      const started = Date.now();
      const file = dtype === 'fp32' ? 'model.onnx' : 'model_q4.onnx';
      const counting = new CountingSink(sink);
      // transformers.js q4 = scripts/quantize.py defaults: symmetric blocks of 32, accuracy level unset.
      const q4 = { symmetric: true, accuracyLevel: 0 };
      const bytes = buildCausalLmGraph(weights, config, dtype, counting, dtype === 'q4' ? { body: { linear: q4 }, head: q4 } : {});
      await writeFile(join(onnxDir, file), bytes);
      // Everything but the embedding table (one row per token) is read for each token.
      weightBytesPerToken[`tjs-${dtype}`] = counting.total - counting.sizeOf(embedBytes(structure, 'fp32'));
      log(`  built transformers.js ${file} (${gb(counting.total)} of weights) in ${seconds(started)}`);
    }
    for (const variant of variants) {
      const started = Date.now();
      if (variant.sessions) continue;
      if (variant.derive) {
        const source = ours[variant.derive.from];
        if (!source) throw new Error(`decode variant ${variant.id} derives from unknown ${variant.derive.from}`);
        const files: OurDecodeFiles = { embed: source.embed, llm: `llm.${variant.id}.onnx`, lmHead: `lm_head.${variant.id}.onnx` };
        await writeFile(join(onnxDir, files.llm), withAccuracyLevel(await readFile(join(onnxDir, source.llm)), variant.derive.accuracyLevel));
        await writeFile(join(onnxDir, files.lmHead), withAccuracyLevel(await readFile(join(onnxDir, source.lmHead)), variant.derive.accuracyLevel));
        ours[variant.id] = files;
        weightBytesPerToken[variant.id] = weightBytesPerToken[variant.derive.from];
        log(`  derived ours ${variant.id} from ${variant.derive.from}`);
        continue;
      }
      const build = (name: string, fill: (ctx: GraphContext) => void) => {
        const counting = new CountingSink(sink);
        const builder = new GraphBuilder(name, counting);
        fill({ builder, weights, dtype: variant.dtype });
        return { bytes: builder.toBytes(), weightBytes: counting.total };
      };
      const files: OurDecodeFiles = {
        embed: `embed.${variant.id}.onnx`,
        llm: `llm.${variant.id}.onnx`,
        lmHead: `lm_head.${variant.id}.onnx`,
      };
      const embed = build('embed', (ctx) => buildEmbedGraph(ctx, config));
      const llm = build('llm', (ctx) => buildLlmGraph(ctx, config, variant.body));
      const head = build('lm_head', (ctx) => buildLmHeadGraph(ctx, config, variant.head));
      await writeFile(join(onnxDir, files.embed), embed.bytes);
      await writeFile(join(onnxDir, files.llm), llm.bytes);
      await writeFile(join(onnxDir, files.lmHead), head.bytes);
      ours[variant.id] = files;
      weightBytesPerToken[variant.id] = llm.weightBytes + head.weightBytes;
      log(`  built ours ${variant.id} (${gb(llm.weightBytes + head.weightBytes)} read per token) in ${seconds(started)}`);
    }
  } finally {
    sink.close();
  }
  await writeFile(join(root, 'config.json'), JSON.stringify(transformersConfig(structure), null, 2));
  // No eos: both loops then run exactly the requested number of tokens.
  await writeFile(join(root, 'generation_config.json'), JSON.stringify({ bos_token_id: structure.llm.bos_token_id, eos_token_id: null }, null, 2));
  const folder: DecodeModelFolder = { root, onnxDir, ours, weightBytesPerToken };
  await writeFile(join(root, 'bench-folder.json'), JSON.stringify(folder, null, 2));
  await writeFile(stampPath, stamp);
  return folder;
}

export async function folderBytes(dir: string, files: readonly string[]): Promise<number> {
  let total = 0;
  for (const file of files) total += (await stat(join(dir, file))).size;
  return total;
}

function embedBytes(structure: CheckpointConfig, dtype: 'fp32'): number {
  void dtype;
  return structure.llm.vocab_size * structure.llm.hidden_size * 4;
}

function transformersConfig(structure: CheckpointConfig) {
  const llm = structure.llm;
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_act: 'silu',
    hidden_size: llm.hidden_size,
    intermediate_size: llm.intermediate_size,
    num_hidden_layers: llm.num_hidden_layers,
    num_attention_heads: llm.num_attention_heads,
    num_key_value_heads: llm.num_key_value_heads,
    max_position_embeddings: llm.max_position_embeddings,
    rms_norm_eps: llm.rms_norm_eps,
    rope_theta: llm.rope_theta,
    vocab_size: llm.vocab_size,
    tie_word_embeddings: true,
    use_sliding_window: false,
    bos_token_id: llm.bos_token_id,
    eos_token_id: null,
    torch_dtype: 'float32',
  };
}

/** Counts the bytes each write asks for (before deduplication), per graph. */
class CountingSink {
  total = 0;
  private readonly sizes = new Map<number, number>();
  constructor(private readonly inner: DedupWeightSink) {}
  get files(): readonly string[] {
    return this.inner.files;
  }
  write(bytes: Uint8Array) {
    this.total += bytes.length;
    this.sizes.set(bytes.length, (this.sizes.get(bytes.length) ?? 0) + 1);
    return this.inner.write(bytes);
  }
  /** `bytes` if a tensor of exactly that size was written, else 0. */
  sizeOf(bytes: number): number {
    return this.sizes.has(bytes) ? bytes : 0;
  }
  close(): void {}
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
