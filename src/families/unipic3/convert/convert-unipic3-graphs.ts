import type { Dtype } from '../../../spec/manifest.js';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import { GraphBuilder } from '../../../convert/onnx/graph-builder.js';
import { FileWeightSink } from '../../../convert/onnx/weight-sink.js';
import type { GraphContext, WeightSource } from '../../../convert/graphs/weights.js';
import { CheckpointWeights } from '../../../convert/sync-weights.js';
import { accountKeys, QWEN_VAE_DROPPED_KEYS, qwenTransformerKeySpecs, qwenVaeKeySpecs, type DroppedKey } from './key-accounting.js';
import { openDiffusersComponent } from './open-diffusers-component.js';
import { qwenTransformerConfigFromJson } from './transformer/qwen-transformer-config.js';
import {
  buildQwenTransformerBlocksGraph,
  buildQwenTransformerInputGraph,
  buildQwenTransformerModulationGraph,
  buildQwenTransformerOutputGraph,
  type ModulationPlacement,
} from './transformer/qwen-transformer-graphs.js';
import { FrameSliceWeights } from './vae/frame-slice-weights.js';
import { buildQwenVaeDecoderGraph } from './vae/qwen-vae-decoder-graph.js';
import { buildQwenVaeEncoderGraph } from './vae/qwen-vae-encoder-graph.js';
import { qwenVaeConfigFromJson } from './vae/qwen-vae-config.js';

export interface Unipic3GraphOptions {
  /** Transformer precision (`q4` by default for the 20 B model); the VAE stays fp32. */
  readonly dtype?: Dtype;
  /** Consecutive blocks per `transformer_blocks_*` graph (default 10: 6 graphs for 60 blocks). */
  readonly blocksPerGraph?: number;
  /** `external` also writes `transformer_modulation` and leaves the blocks graphs without img_mod/txt_mod (default `internal`). */
  readonly modulation?: ModulationPlacement;
  /** `transformer/` or `ema_transformer/` (the distilled repositories' zip-pickle). */
  readonly transformerFolder?: string;
}

export interface Unipic3GraphSummary {
  /** Graph files, each followed by its external-data files. */
  readonly files: readonly string[];
  readonly dropped: readonly DroppedKey[];
}

/**
 * Converts a UniPic-3 (Qwen-Image-Edit layout) transformer and VAE into ONNX graphs, streamed:
 * keys are accounted from descriptors first, then each graph reads its tensors one at a time
 * from disk (CheckpointWeights) and spills large initialisers to external data as it goes, so
 * memory holds about one tensor and one graph's structure, never the model.
 * The text encoder (Qwen2.5-VL) and the runtime manifest are not part of this step.
 */
export async function convertUnipic3Graphs(checkpointDir: string, outDir: string, options: Unipic3GraphOptions = {}): Promise<Unipic3GraphSummary> {
  const dtype = options.dtype ?? 'q4';
  const perGraph = options.blocksPerGraph ?? 10;
  const placement = options.modulation ?? 'internal';
  if (!Number.isInteger(perGraph) || perGraph < 1) throw new InvalidOptionsError(`blocksPerGraph must be a positive integer, got ${perGraph}`);
  const files: string[] = [];
  const dropped: DroppedKey[] = [];

  const transformerDir = join(checkpointDir, options.transformerFolder ?? 'transformer');
  const transformerConfig = qwenTransformerConfigFromJson(await readJson(join(transformerDir, 'config.json')));
  const transformer = await openDiffusersComponent(transformerDir);
  try {
    const account = accountKeys(transformerDir, transformer.tensors, qwenTransformerKeySpecs(transformerConfig));
    const weights = await CheckpointWeights.open({ root: transformerDir, tensors: transformer.tensors }, account.used);
    try {
      files.push(...(await writeGraph(outDir, 'transformer_in', dtype, weights, (ctx) => buildQwenTransformerInputGraph(ctx, transformerConfig))));
      if (placement === 'external') {
        files.push(...(await writeGraph(outDir, 'transformer_modulation', dtype, weights, (ctx) => buildQwenTransformerModulationGraph(ctx, transformerConfig))));
      }
      for (let first = 0; first < transformerConfig.numLayers; first += perGraph) {
        const count = Math.min(perGraph, transformerConfig.numLayers - first);
        const name = `transformer_blocks_${first}_${first + count - 1}`;
        files.push(
          ...(await writeGraph(outDir, name, dtype, weights, (ctx) => buildQwenTransformerBlocksGraph(ctx, transformerConfig, first, count, 'standard', placement))),
        );
      }
      files.push(...(await writeGraph(outDir, 'transformer_out', dtype, weights, (ctx) => buildQwenTransformerOutputGraph(ctx, transformerConfig))));
    } finally {
      weights.close();
    }
  } finally {
    await transformer.close();
  }

  const vaeDir = join(checkpointDir, 'vae');
  const vaeConfig = qwenVaeConfigFromJson(await readJson(join(vaeDir, 'config.json')));
  const vae = await openDiffusersComponent(vaeDir);
  try {
    const account = accountKeys(vaeDir, vae.tensors, qwenVaeKeySpecs(vaeConfig), QWEN_VAE_DROPPED_KEYS);
    dropped.push(...account.dropped);
    const weights = await CheckpointWeights.open({ root: vaeDir, tensors: vae.tensors }, account.used);
    try {
      const sliced = new FrameSliceWeights(weights);
      files.push(...(await writeGraph(outDir, 'vae_encoder', 'fp32', sliced, (ctx) => buildQwenVaeEncoderGraph(ctx, vaeConfig, 'fused'))));
      files.push(...(await writeGraph(outDir, 'vae_decoder', 'fp32', sliced, (ctx) => buildQwenVaeDecoderGraph(ctx, vaeConfig, 'fused'))));
    } finally {
      weights.close();
    }
  } finally {
    await vae.close();
  }
  return { files, dropped };
}

async function writeGraph(outDir: string, name: string, dtype: Dtype, weights: WeightSource, build: (ctx: GraphContext) => void): Promise<string[]> {
  const file = `${name}.${dtype}.onnx`;
  const sink = new FileWeightSink(outDir, file);
  try {
    const builder = new GraphBuilder(name, sink);
    build({ builder, weights, dtype });
    await writeFile(join(outDir, file), builder.toBytes());
    return [file, ...sink.files];
  } finally {
    sink.close();
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}
