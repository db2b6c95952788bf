import type { Dtype } from '../../../../src/spec/manifest.js';
import { copyFileSync, mkdtempSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { GraphBuilder } from '../../../../src/convert/onnx/graph-builder.js';
import { MemoryWeightSink } from '../../../../src/convert/onnx/weight-sink.js';
import type { GraphContext, WeightSource } from '../../../../src/convert/graphs/weights.js';
import { parseConditionerConfig } from '../../../../src/families/unipic2-metaquery/convert/conditioner-config.js';
import { parseVlmConfig } from '../../../../src/convert/graphs/qwen-vl/vlm-config.js';
import { runGraph, type BuiltGraph, type Feed } from '../../../convert/graphs/layers/support/graph-runner.js';
import { MQ_CHECKPOINT } from './goldens.js';

export { runGraph, type Feed };

const ASSETS = fileURLToPath(new URL('../../../../assets/qwen2.5-tokenizer/', import.meta.url));

/** The oracle's checkpoint with the tokenizer files it leaves out (byte-identical to the bundled ones). */
export function fixtureCheckpoint(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mq-checkpoint-'));
  cpSync(MQ_CHECKPOINT, dir, { recursive: true });
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(ASSETS, f), join(dir, 'Qwen2.5-VL-7B-Instruct', f));
  return dir;
}

export const vlmConfig = parseVlmConfig(JSON.parse(readFileSync(join(MQ_CHECKPOINT, 'Qwen2.5-VL-7B-Instruct', 'config.json'), 'utf8')));
export const conditionerConfig = parseConditionerConfig(JSON.parse(readFileSync(join(MQ_CHECKPOINT, 'conditioner', 'config.json'), 'utf8')));

export function buildGraph(weights: WeightSource, build: (ctx: GraphContext) => void, dtype: Dtype = 'fp32'): BuiltGraph {
  const sink = new MemoryWeightSink('graph.data');
  const builder = new GraphBuilder('test', sink);
  build({ builder, weights, dtype });
  return { bytes: builder.toBytes(), data: sink.bytes() };
}

export function floatFeed(data: ArrayLike<number>, dims: number[]): Feed {
  return { type: 'float32', data: Float32Array.from(data), dims };
}
export function int64Feed(data: ArrayLike<number>, dims: number[]): Feed {
  return { type: 'int64', data: BigInt64Array.from(Array.from(data, (v) => BigInt(v))), dims };
}
