import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../../errors/abort-error.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import { MANIFEST_VERSION, type Dtype } from '../../../spec/manifest.js';
import type { GraphContext } from '../../../convert/graphs/weights.js';
import { fileEntry } from '../../../convert/model-folder-writer.js';
import { GraphBuilder } from '../../../convert/onnx/graph-builder.js';
import { FileWeightSink } from '../../../convert/onnx/weight-sink.js';
import { CheckpointWeights } from '../../../convert/sync-weights.js';
import { KONTEXT_FAMILY, type KontextConfig, type KontextGraphName } from '../kontext-config.js';
import { kontextManifestSchema, type KontextManifest } from '../kontext-manifest.js';
import { buildClipTextGraph } from './clip-text-graph.js';
import { readKontextCheckpointConfig, type KontextCheckpointConfig } from './diffusers-configs.js';
import { KontextCheckpoint } from './kontext-checkpoint.js';
import { accountKontextKeys, type KontextKeyAccount } from './kontext-keys.js';
import { sd3DiffusionConfig, sd3DiffusionGraphPlans } from '../../../convert/sd3-diffusion/diffusion-graphs.js';
import { POSITION_TABLE_KEY } from '../../../convert/sd3-diffusion/diffusion-shapes.js';
import { detectPositionTableRounding } from '../../../convert/sd3-diffusion/position-table-check.js';
import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';
import { buildT5EncoderGraph } from './t5-encoder-graph.js';
import { writeKontextTokenizers } from './write-tokenizer-files.js';
import { awaitArrivals } from '../../../convert/readers/arriving-files.js';

export interface KontextConvertOptions {
  readonly dtypes?: readonly Dtype[];
  readonly name?: string;
  /** The checkpoint as the manifest's `source` names it (the registry's pinned `hf:` ids); default: the weight file count. */
  readonly source?: string;
  readonly onProgress?: (event: { stage: 'build' | 'tokenizer' | 'hash'; item: string; done: number; total: number }) => void;
  readonly signal?: AbortSignal;
}

export interface KontextConvertSummary {
  readonly manifest: KontextManifest;
  readonly graphs: readonly { graph: KontextGraphName; dtype: Dtype; bytes: number; ms: number }[];
  readonly keys: KontextKeyAccount;
  readonly warnings: readonly string[];
  readonly ms: number;
}

interface Plan {
  readonly name: KontextGraphName;
  readonly prefix: string;
  /** VAE graphs stay float32 in every dtype (convolutions and GroupNorm, 4% of the parameters). */
  readonly quantizable: boolean;
  build(ctx: GraphContext): void;
}

function plans(s: KontextCheckpointConfig, onStripPlan: (plan: StripDecoderPlan) => void, onStripEncoderPlan: (plan: StripEncoderPlan) => void): Plan[] {
  const list: Plan[] = [
    { name: 'clip_l', prefix: 'text_encoder.', quantizable: true, build: (ctx) => buildClipTextGraph(ctx, s.clipL, 'text_encoder.') },
    { name: 'clip_g', prefix: 'text_encoder_2.', quantizable: true, build: (ctx) => buildClipTextGraph(ctx, s.clipG, 'text_encoder_2.') },
  ];
  if (s.t5) {
    const t5 = s.t5;
    list.push({ name: 't5_encoder', prefix: 'text_encoder_3.', quantizable: true, build: (ctx) => buildT5EncoderGraph(ctx, t5, 'text_encoder_3.') });
  }
  list.push(...sd3DiffusionGraphPlans(s, onStripPlan, onStripEncoderPlan));
  return list;
}

/** The manifest's config section from the checkpoint structure. */
export function kontextConfig(s: KontextCheckpointConfig, rounding: 'bfloat16' | 'float32'): KontextConfig {
  const t = s.transformer;
  const { transformer, vae, scheduler } = sd3DiffusionConfig(s, rounding);
  return {
    transformer,
    vae,
    text: {
      clipLength: Math.min(s.clipL.maxPositions, s.clipG.maxPositions),
      t5Length: 256,
      clipLWidth: s.clipL.hiddenSize,
      clipGWidth: s.clipG.hiddenSize,
      t5Width: s.t5?.dModel ?? t.jointAttentionDim,
    },
    scheduler,
  };
}

/** q8 (dynamic int8 products) is built for UniPic-1's MAR and head graphs only and has no parity test here. */
const KONTEXT_DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q4', 'q4f16'];

/**
 * UniPic2-SD3.5M-Kontext diffusers folder → model folder (docs/converter.md). Every check on the
 * checkpoint (layout, shard index, configs, keys, shapes, dtypes, the position table) runs before
 * the output folder is created; `unipic.json` is written last.
 */
export async function convertKontextCheckpoint(checkpointDir: string, outDir: string, options: KontextConvertOptions = {}): Promise<KontextConvertSummary> {
  const started = Date.now();
  const warnings: string[] = [];
  const dtypes = [...new Set<Dtype>(options.dtypes ?? ['fp32'])];
  const badDtype = dtypes.find((d) => !(KONTEXT_DTYPES as readonly string[]).includes(d));
  if (dtypes.length === 0 || badDtype) {
    const message = badDtype ? `"${badDtype}" is not one of ${KONTEXT_DTYPES.join(', ')}` : 'at least one dtype is needed';
    throw new InvalidOptionsError(`invalid convert options: dtypes: ${message}`, { details: { issues: [{ path: 'dtypes', message }] } });
  }
  const checkpoint = await KontextCheckpoint.open(checkpointDir);
  try {
    const hasT5 = checkpoint.components.has('text_encoder_3');
    if (!hasT5) warnings.push('no text_encoder_3/: the model will run without T5 (zero embeddings, as the pipeline does), which changes outputs');
    const structure = await readKontextCheckpointConfig(checkpointDir, hasT5);
    const keys = accountKontextKeys(structure, checkpoint.tensors);
    const needed = [...keys.required];
    if (checkpoint.tensors.has(POSITION_TABLE_KEY)) needed.push(POSITION_TABLE_KEY);
    const weights = await CheckpointWeights.open(checkpoint, needed);
    try {
      const rounding = detectPositionTableRounding(weights, structure.transformer, warnings);
      const config = kontextConfig(structure, rounding);
      await mkdir(outDir, { recursive: true });
      const built: KontextConvertSummary['graphs'][number][] = [];
      const graphs: KontextManifest['graphs'] = {};
      let stripDecoder: StripDecoderPlan | undefined;
      let stripEncoder: StripEncoderPlan | undefined;
      const list = plans(
        structure,
        (plan) => {
          stripDecoder = plan;
        },
        (plan) => {
          stripEncoder = plan;
        },
      );
      let done = 0;
      for (const plan of list) {
        const subset = weights.subset(keys.required.filter((k) => k.startsWith(plan.prefix)));
        const variants: Partial<Record<Dtype, { file: string; externalData: string[] }>> = {};
        for (const dtype of dtypes) {
          throwIfAborted(options.signal);
          options.onProgress?.({ stage: 'build', item: `${plan.name} (${dtype})`, done, total: list.length * dtypes.length });
          const effective: Dtype = plan.quantizable ? dtype : 'fp32';
          const file = `${plan.name}.${effective}.onnx`;
          const existing = Object.values(variants).find((v) => v?.file === file);
          if (existing) {
            variants[dtype] = existing;
          } else {
            const t0 = Date.now();
            const sink = new FileWeightSink(outDir, file);
            try {
              const builder = new GraphBuilder(plan.name, sink);
              plan.build({ builder, weights: subset, dtype: effective });
              const bytes = builder.toBytes();
              await writeFile(join(outDir, file), bytes);
              variants[dtype] = { file, externalData: [...sink.files] };
              built.push({ graph: plan.name, dtype, bytes: bytes.length, ms: Date.now() - t0 });
            } finally {
              sink.close();
            }
          }
          done++;
        }
        graphs[plan.name] = variants;
      }
      options.onProgress?.({ stage: 'tokenizer', item: 'tokenizers', done, total: done });
      const tokenizers = await writeKontextTokenizers(checkpointDir, outDir, hasT5);
      const paths = [
        ...new Set(Object.values(graphs).flatMap((v) => Object.values(v ?? {}).flatMap((g) => (g ? [g.file, ...g.externalData] : [])))),
        tokenizers.clipL.file,
        tokenizers.clipG.file,
        ...(tokenizers.t5 ? [tokenizers.t5.file] : []),
      ];
      const files = [];
      for (const [i, path] of paths.entries()) {
        throwIfAborted(options.signal);
        options.onProgress?.({ stage: 'hash', item: path, done: i, total: paths.length });
        files.push(await fileEntry(outDir, path));
      }
      const manifest = kontextManifestSchema.parse({
        format: 'unipic',
        version: MANIFEST_VERSION,
        family: KONTEXT_FAMILY,
        familyVersion: 1,
        name: options.name ?? 'unipic2-kontext',
        source: `converted from ${options.source ?? `${checkpoint.files.length} weight files of a diffusers folder`}`,
        config,
        tokenizers,
        graphs,
        ...(stripDecoder ? { stripDecoder } : {}),
        ...(stripEncoder ? { stripEncoder } : {}),
        files,
      });
      // Streamed from the Hub (readers/arriving-files.ts): publish only once every weight file verified.
      await awaitArrivals();
      const temporary = join(outDir, 'unipic.json.partial');
      await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
      await rename(temporary, join(outDir, 'unipic.json'));
      return { manifest, graphs: built, keys, warnings, ms: Date.now() - started };
    } finally {
      weights.close();
    }
  } finally {
    await checkpoint.close();
  }
}
