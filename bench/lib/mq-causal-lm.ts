import { link, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { onnx } from '../../src/convert/onnx/proto.js';
import { inverseFrequencies } from '../../src/core/math/rotary-frequencies.js';
import type { MqRuntimeConfig } from '../../src/families/unipic2-metaquery/runtime/mq-graphs.js';

interface GraphFiles {
  readonly file: string;
  readonly externalData: readonly string[];
}

/**
 * The plain Hugging Face causal-LM layout transformers.js runs for Qwen2 (`input_ids`,
 * `attention_mask`, `position_ids`, `past_key_values.*` → `logits`, `present.*`), assembled from a
 * converted Metaquery folder's own `embed`, `llm` and `lm_head` graphs: their nodes are joined into
 * one graph whose initializers keep pointing at the folder's external-data files (linked into
 * `<root>/onnx/`), so both runtimes read the very same 4-bit bytes and no 7B re-quantisation is
 * needed. The `llm` graph takes rotary angles (Qwen2.5-VL's M-RoPE is computed on the host); for
 * text, whose t/h/w positions are equal, they are `position · inv_freq`, which the joined graph
 * computes from `position_ids` — the ordinary 1-D RoPE of a Qwen2.5-7B text model.
 */
export async function writeCausalLmFolder(
  modelDir: string,
  root: string,
  config: MqRuntimeConfig,
  graphs: { embed: GraphFiles; llm: GraphFiles; lm_head: GraphFiles },
  vocabSize: number,
  modelFile: string,
): Promise<void> {
  const onnxDir = join(root, 'onnx');
  await mkdir(onnxDir, { recursive: true });
  const decode = async (graph: GraphFiles) => onnx.ModelProto.decode(await readFile(join(modelDir, graph.file)));
  const [model, embedModel, headModel] = [await decode(graphs.llm), await decode(graphs.embed), await decode(graphs.lm_head)];
  const body = model.graph!;
  const embed = embedModel.graph!;
  const head = headModel.graph!;
  const prefixed = (graph: OnnxTypes.IGraphProto, prefix: string, keep: Record<string, string>) => {
    const rename = (name: string) => (name === '' ? '' : (keep[name] ?? `${prefix}/${name}`));
    for (const node of graph.node ?? []) {
      node.input = (node.input ?? []).map(rename);
      node.output = (node.output ?? []).map(rename);
      if (node.name) node.name = `${prefix}${node.name}`;
    }
    for (const tensor of graph.initializer ?? []) tensor.name = rename(tensor.name ?? '');
  };
  prefixed(embed, 'embed', { input_ids: 'input_ids', inputs_embeds: 'embed/inputs_embeds' });
  prefixed(head, 'lm_head', { hidden: 'last_hidden_state', logits: 'logits' });
  // position_ids [B, S] → angles [B, S, D/2] = position · inv_freq (float32, as the SDK's host code).
  const frequencies = inverseFrequencies(config.llm.headDim, config.llm.ropeTheta);
  const angleNodes: onnx.INodeProto[] = [
    { opType: 'Cast', input: ['position_ids'], output: ['rope/positions'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    { opType: 'Unsqueeze', input: ['rope/positions', 'rope/last_axis'], output: ['rope/column'] },
    { opType: 'Mul', input: ['rope/column', 'rope/inv_freq'], output: ['rotary_angles'] },
  ];
  const constants: onnx.ITensorProto[] = [
    { name: 'rope/last_axis', dataType: onnx.TensorProto.DataType.INT64, dims: [1], int64Data: [-1] },
    { name: 'rope/inv_freq', dataType: onnx.TensorProto.DataType.FLOAT, dims: [frequencies.length], rawData: new Uint8Array(frequencies.buffer.slice(0)) },
  ];
  for (const node of body.node ?? []) node.input = (node.input ?? []).map((name) => (name === 'inputs_embeds' ? 'embed/inputs_embeds' : name));
  body.node = [...(embed.node ?? []), ...angleNodes, ...(body.node ?? []), ...(head.node ?? [])];
  body.initializer = [...(embed.initializer ?? []), ...constants, ...(body.initializer ?? []), ...(head.initializer ?? [])];
  const inputOf = (name: string, type: number, dims: (string | number)[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const INT64 = onnx.TensorProto.DataType.INT64;
  const pastInputs = (body.input ?? []).filter((input) => input.name?.startsWith('past_key_values.'));
  body.input = [
    inputOf('input_ids', INT64, ['batch', 'sequence']),
    ...(body.input ?? []).filter((input) => input.name === 'attention_mask'),
    inputOf('position_ids', INT64, ['batch', 'sequence']),
    ...pastInputs,
  ];
  body.output = [
    inputOf('logits', onnx.TensorProto.DataType.FLOAT, ['batch', 'sequence', vocabSize]),
    ...(body.output ?? []).filter((output) => output.name?.startsWith('present.')),
  ];
  // Shapes of the joined intermediates differ from the separate graphs' (the head now sees [B, S, H]).
  body.valueInfo = [];
  const opsets = new Map<string, OnnxTypes.IOperatorSetIdProto>();
  for (const graph of [model, embedModel, headModel]) {
    for (const opset of graph.opsetImport ?? []) {
      const known = opsets.get(opset.domain ?? '');
      if (!known || Number(known.version) < Number(opset.version)) opsets.set(opset.domain ?? '', opset);
    }
  }
  model.opsetImport = [...opsets.values()];
  await writeFile(join(onnxDir, modelFile), onnx.ModelProto.encode(model).finish());
  for (const data of new Set([...graphs.embed.externalData, ...graphs.llm.externalData, ...graphs.lm_head.externalData])) {
    // Hard links: ORT refuses external data that resolves outside the model's directory (symlinks do).
    await link(join(modelDir, data), join(onnxDir, data)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
