/**
 * Adds the strip VAE graphs to a copy of a converted full-size UniPic-1 folder, for the full-model
 * 1024 px peaks (docs/performance.md, "Strip VAE encoder"): every file of `<source>` is linked into
 * `<out>` (nothing copied), `vae_encoder_strips` (and `vae_decoder_strips` when the folder predates
 * it) is built from the weights of the source's own one-shot graph, and `unipic.json` gains the
 * graphs and their plans.
 *
 *   tsx bench/full-size-strip-encoder.ts /tmp/gpu21/model /tmp/mem18/fullmodel
 *
 * Then measure as the memory section does, on the real weights instead of the one-block model:
 *   tsx bench/lib/memory-probe.ts '{"model":"/tmp/mem18/fullmodel","dtype":"q4","task":"understand","size":1024}'
 */
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { GraphContext, WeightSource } from '../src/convert/graphs/weights.js';
import { fileEntry, writeManifest } from '../src/convert/model-folder-writer.js';
import { GraphBuilder } from '../src/convert/onnx/graph-builder.js';
import { onnx } from '../src/convert/onnx/proto.js';
import { FileWeightSink } from '../src/convert/onnx/weight-sink.js';
import { UNIPIC_VAE_CONFIG } from '../src/families/unipic1/convert/graphs/vae/vae-config.js';
import { buildVaeEncoderStripGraph } from '../src/families/unipic1/convert/graphs/vae/vae-encoder-graph.js';
import { buildVaeDecoderStripGraph } from '../src/families/unipic1/convert/graphs/vae/vae-decoder-graph.js';
import { unipic1ManifestSchema, type UniPic1Manifest } from '../src/families/unipic1/manifest.js';

/** The float32 initializers of a converted graph (external data beside it), by name. */
class GraphWeights implements WeightSource {
  private readonly tensors = new Map<string, onnx.ITensorProto>();

  constructor(
    private readonly folder: string,
    file: string,
  ) {
    const model = onnx.ModelProto.decode(readFileSync(join(folder, file)));
    for (const tensor of model.graph?.initializer ?? []) this.tensors.set(tensor.name!, tensor);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  shape(name: string): readonly number[] {
    return (this.tensor(name).dims ?? []).map(Number);
  }

  float32(name: string): Float32Array {
    const tensor = this.tensor(name);
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${name} is not float32`);
    if (tensor.rawData?.length) return new Float32Array(Uint8Array.from(tensor.rawData).buffer);
    if (tensor.floatData?.length) return Float32Array.from(tensor.floatData);
    const entry = (key: string) => tensor.externalData?.find((e) => e.key === key)?.value;
    const bytes = readFileSync(join(this.folder, entry('location')!)).subarray(Number(entry('offset') ?? 0));
    return new Float32Array(Uint8Array.from(bytes.subarray(0, Number(entry('length')))).buffer);
  }

  private tensor(name: string): onnx.ITensorProto {
    const tensor = this.tensors.get(name);
    if (!tensor) throw new Error(`missing weight ${name}`);
    return tensor;
  }
}

const [source, out] = process.argv.slice(2).map((path) => resolve(path));
if (!source || !out) throw new Error('usage: full-size-strip-encoder.ts <converted folder> <out folder>');
const manifest = JSON.parse(readFileSync(join(source, 'unipic.json'), 'utf8')) as UniPic1Manifest;
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
for (const name of readdirSync(source)) if (name !== 'unipic.json') symlinkSync(join(source, name), join(out, name));

const started = Date.now();
/** Builds `name` from the weights of the source's `from` graph; returns its manifest variants and files. */
async function build<Plan>(name: 'vae_encoder_strips' | 'vae_decoder_strips', from: 'vae_encoder' | 'vae_decoder', make: (ctx: GraphContext) => Plan) {
  const source_ = Object.values(manifest.graphs[from] ?? {})[0];
  if (!source_) throw new Error(`${source} has no ${from}`);
  const file = `${name}.fp32.onnx`;
  const sink = new FileWeightSink(out, file);
  const builder = new GraphBuilder(name, sink);
  const plan = make({ builder, weights: new GraphWeights(source, source_.file), dtype: 'fp32' });
  sink.close();
  await writeFile(join(out, file), builder.toBytes());
  const variant = { file, externalData: [...sink.files] };
  // Every dtype of the source graph points at the float32 file, as the converter writes the VAE.
  const variants = Object.fromEntries(Object.keys(manifest.graphs[from] ?? {}).map((dtype) => [dtype, variant]));
  return { plan, variants, files: await Promise.all([file, ...sink.files].map((path) => fileEntry(out, path))) };
}
const encoder = await build('vae_encoder_strips', 'vae_encoder', (ctx) => buildVaeEncoderStripGraph(ctx, UNIPIC_VAE_CONFIG, { attention: 'fused' }));
const decoder = manifest.graphs.vae_decoder_strips
  ? undefined
  : await build('vae_decoder_strips', 'vae_decoder', (ctx) => buildVaeDecoderStripGraph(ctx, UNIPIC_VAE_CONFIG, { attention: 'fused' }));
await writeManifest(
  out,
  {
    ...manifest,
    graphs: { ...manifest.graphs, vae_encoder_strips: encoder.variants, ...(decoder ? { vae_decoder_strips: decoder.variants } : {}) },
    stripEncoder: encoder.plan,
    ...(decoder ? { stripDecoder: decoder.plan } : {}),
    files: [...manifest.files, ...encoder.files, ...(decoder?.files ?? [])],
  },
  unipic1ManifestSchema,
);
console.log(`built the strip graphs in ${((Date.now() - started) / 1000).toFixed(1)} s into ${out}`);
