import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledTokenizerDir } from './bundled-assets.js';
import { throwIfAborted } from '../errors/abort-error.js';
import { InvalidModelError } from '../errors/invalid-model-error.js';
import { encodeSafetensors } from '../formats/safetensors-encoder.js';
import type { Dtype, GraphName, Manifest } from '../spec/manifest.js';
import { graphPlans } from './graph-plan.js';
import { MemoryWeights, type GraphDtype } from './graphs/weights.js';
import { accountKeys, type KeyAccount } from './key-map.js';
import { fileEntry, writeManifest } from './model-folder-writer.js';
import { GraphBuilder } from './onnx/graph-builder.js';
import { FileWeightSink } from './onnx/weight-sink.js';
import { UniPicCheckpoint } from './readers/open-checkpoint.js';
import { resolveStructure } from './resolve-structure.js';
import { toModelConfig, type Structure } from './structure.js';
import { buildPositionTables, readLearnedPositionTables } from './tables/position-tables.js';
import { writeTokenizerFiles } from './tokenizer/index.js';

export interface ConvertProgressEvent {
  readonly stage: 'read' | 'build' | 'tables' | 'tokenizer' | 'hash';
  /** Graph or file being worked on. */
  readonly item: string;
  /** Items finished so far, out of `total`. */
  readonly done: number;
  readonly total: number;
}

export interface ConvertOptions {
  /** Precisions to write (default fp32). Each adds a variant of every graph. */
  readonly dtypes?: readonly GraphDtype[];
  /** Output sizes to precompute position tables for (default: the structure's, 512 and 1024 for UniPic). */
  readonly resolutions?: readonly number[];
  /** Structural numbers; default: `unipic-config.json` in the checkpoint, else UniPic-1.5B's. */
  readonly structure?: Structure;
  readonly name?: string;
  readonly onProgress?: (event: ConvertProgressEvent) => void;
  readonly signal?: AbortSignal;
}

export interface ConvertedGraph {
  readonly graph: GraphName;
  readonly dtype: Dtype;
  readonly bytes: number;
  readonly ms: number;
}

export interface ConvertSummary {
  readonly manifest: Manifest;
  readonly graphs: readonly ConvertedGraph[];
  readonly keys: KeyAccount;
  readonly warnings: readonly string[];
  readonly ms: number;
}


/**
 * Official UniPic checkpoint folder → model folder the SDK loads (docs/model-format.md). Graphs
 * are built op by op from the weights, one graph's weights in memory at a time.
 */
export async function convertCheckpoint(checkpointDir: string, outDir: string, options: ConvertOptions = {}): Promise<ConvertSummary> {
  const started = Date.now();
  const warnings: string[] = [];
  const dtypes: GraphDtype[] = [...new Set<GraphDtype>(options.dtypes ?? ['fp32'])];
  const checkpoint = await UniPicCheckpoint.open(checkpointDir);
  try {
    const structure = options.structure ?? (await resolveStructure(checkpointDir, checkpoint.llmConfig, warnings));
    const config = toModelConfig(structure);
    const shapes = new Map([...checkpoint.tensors].map(([name, t]) => [name, t.shape] as const));
    const keys = accountKeys(structure, shapes);
    if (keys.missing.length) {
      throw new InvalidModelError(`the checkpoint lacks ${keys.missing.length} required weights: ${keys.missing.slice(0, 20).join(', ')}${keys.missing.length > 20 ? ', …' : ''}`, {
        details: { missing: keys.missing },
      });
    }
    if (keys.misshapen.length) {
      const first = keys.misshapen[0];
      throw new InvalidModelError(
        `${keys.misshapen.length} weights have unexpected shapes, e.g. ${first.key}: [${first.actual.join(', ')}] instead of [${first.expected.join(', ')}]`,
        { details: { misshapen: keys.misshapen } },
      );
    }
    for (const key of keys.unknown) warnings.push(`unknown checkpoint key ${key} (not used)`);
    await mkdir(outDir, { recursive: true });

    const plans = graphPlans(structure, config);
    const total = plans.length * dtypes.length;
    const converted: ConvertedGraph[] = [];
    const graphs: Manifest['graphs'] = {};
    let done = 0;
    for (const plan of plans) {
      throwIfAborted(options.signal);
      options.onProgress?.({ stage: 'read', item: plan.name, done, total });
      const names = [...checkpoint.tensors.keys()].filter((k) => plan.keys(k) && keys.required.includes(k));
      const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const name of names) tensors[name] = { shape: [...checkpoint.tensors.get(name)!.shape], data: await checkpoint.readFloat32(name) };
      const weights = new MemoryWeights(tensors);
      const variants: Partial<Record<Dtype, { file: string; externalData: string[] }>> = {};
      for (const dtype of dtypes) {
        throwIfAborted(options.signal);
        options.onProgress?.({ stage: 'build', item: `${plan.name} (${dtype})`, done, total });
        const effective: GraphDtype = plan.quantizable ? dtype : 'fp32';
        const file = `${plan.name}.${effective}.onnx`;
        const existing = Object.values(variants).find((v) => v?.file === file);
        if (existing) {
          variants[dtype] = existing;
        } else {
          const t0 = Date.now();
          const sink = new FileWeightSink(outDir, file);
          try {
            const builder = new GraphBuilder(plan.name, sink);
            plan.build({ builder, weights, dtype: effective });
            const bytes = builder.toBytes();
            await writeFile(join(outDir, file), bytes);
            variants[dtype] = { file, externalData: [...sink.files] };
            converted.push({ graph: plan.name, dtype, bytes: bytes.length, ms: Date.now() - t0 });
          } finally {
            sink.close();
          }
        }
        done++;
      }
      graphs[plan.name] = variants;
    }

    options.onProgress?.({ stage: 'tables', item: 'position tables', done, total });
    const layout = {
      bufferSize: config.mar.bufferSize,
      nativeGrid: config.mar.nativeGrid,
      encoderWidth: config.mar.encoderWidth,
      decoderWidth: config.mar.decoderWidth,
    };
    const learnedNames = ['mar.encoder_pos_embed_learned', 'mar.decoder_pos_embed_learned', 'mar.diffusion_pos_embed_learned', 'mar.mask_token'];
    const small: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const name of learnedNames) small[name] = { shape: [...checkpoint.tensors.get(name)!.shape], data: await checkpoint.readFloat32(name) };
    const learned = readLearnedPositionTables(new MemoryWeights(small), layout);
    const resolutions: Manifest['resolutions'] = [];
    for (const size of options.resolutions ?? structure.resolutions) {
      if (size % config.mar.vaeStride !== 0) throw new InvalidModelError(`resolution ${size} is not a multiple of the VAE stride ${config.mar.vaeStride}`);
      const grid = size / config.mar.vaeStride;
      const tables = buildPositionTables(learned, layout, grid);
      const file = `tables-${size}.safetensors`;
      await writeFile(
        join(outDir, file),
        encodeSafetensors([
          float32Tensor('encoder_pos', [layout.bufferSize + grid * grid, layout.encoderWidth], tables.encoderPos),
          float32Tensor('decoder_pos', [layout.bufferSize + grid * grid, layout.decoderWidth], tables.decoderPos),
          float32Tensor('diffusion_pos', [grid * grid, layout.decoderWidth], tables.diffusionPos),
        ]),
      );
      resolutions.push({ size, grid, tables: file });
    }
    const constants = 'mar-constants.safetensors';
    await writeFile(
      join(outDir, constants),
      encodeSafetensors([float32Tensor('mask_token', [config.mar.decoderWidth], small['mar.mask_token'].data)]),
    );

    options.onProgress?.({ stage: 'tokenizer', item: 'tokenizer', done, total });
    const qwen = join(checkpointDir, 'Qwen2.5-1.5B-Instruct');
    const hasTokenizer = existsSync(join(qwen, 'tokenizer.json')) || existsSync(join(qwen, 'vocab.json'));
    if (!hasTokenizer) warnings.push(`no tokenizer files in ${qwen}: using the Qwen2.5 tokenizer bundled with unipic`);
    const tokenizer = await writeTokenizerFiles(hasTokenizer ? qwen : bundledTokenizerDir(), outDir);

    const paths = [
      ...new Set(Object.values(graphs).flatMap((v) => Object.values(v ?? {}).flatMap((g) => (g ? [g.file, ...g.externalData] : [])))),
      ...resolutions.map((r) => r.tables),
      constants,
      tokenizer.json,
      tokenizer.config,
    ];
    const files = [];
    for (const [i, path] of paths.entries()) {
      options.onProgress?.({ stage: 'hash', item: path, done: i, total: paths.length });
      files.push(await fileEntry(outDir, path));
    }
    const manifest = await writeManifest(outDir, {
      name: options.name ?? 'unipic',
      source: `converted from ${checkpoint.sources.map((s) => s.path.slice(checkpointDir.length).replace(/^\//, '')).join(', ')}`,
      config,
      tokenizer,
      constants,
      resolutions,
      graphs,
      files,
    });
    return { manifest, graphs: converted, keys, warnings, ms: Date.now() - started };
  } finally {
    await checkpoint.close();
  }
}

function float32Tensor(name: string, shape: number[], data: Float32Array) {
  return { name, dtype: 'float32' as const, shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

