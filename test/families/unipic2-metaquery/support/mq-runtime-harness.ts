import type { Dtype } from '../../../../src/spec/manifest.js';
import { join } from 'node:path';
import { NodeOrtBackend } from '../../../../adapters/node-ort/index.js';
import { WebOrtBackend } from '../../../../adapters/web-ort/index.js';
import { buildEmbedGraph } from '../../../../src/convert/graphs/llm/embed-graph.js';
import { buildLlmGraph } from '../../../../src/convert/graphs/llm/llm-graph.js';
import { buildLmHeadGraph } from '../../../../src/convert/graphs/llm/lm-head-graph.js';
import { CheckedGraphs } from '../../../../src/core/model/graphs.js';
import type { GraphName } from '../../../../src/spec/manifest.js';
import type { BackendSession } from '../../../../src/spec/backend.js';
import { buildConditionerGraph } from '../../../../src/families/unipic2-metaquery/convert/graphs/conditioner-graph.js';
import { buildVisionGraph, withFlatPatchEmbed } from '../../../../src/convert/graphs/qwen-vl/vision-graph.js';
import { asSharedLlmWeights, openFolderWeights } from '../../../../src/convert/graphs/qwen-vl/folder-weights.js';
import type { MqGraphName, MqGraphs, MqRuntimeConfig } from '../../../../src/families/unipic2-metaquery/runtime/mq-graphs.js';
import { buildGraph, conditionerConfig, vlmConfig } from './graph-harness.js';
import { MQ_CHECKPOINT } from './goldens.js';

export const runtimeConfig: MqRuntimeConfig = {
  llm: vlmConfig.llm,
  mropeSection: vlmConfig.mropeSection,
  vision: vlmConfig.vision,
  imageTokenId: vlmConfig.imageTokenId,
  numQueries: conditionerConfig.numQueries,
};

/** The fixture checkpoint's five graphs, built in memory and run through CheckedGraphs on onnxruntime-node CPU or onnxruntime-web wasm. */
export async function fixtureGraphs(
  dtype: Dtype = 'fp32',
  runtime: 'node' | 'web' = 'node',
): Promise<{ graphs: MqGraphs; metaQueries: Float32Array; dispose: () => Promise<void> }> {
  const vlm = await openFolderWeights(join(MQ_CHECKPOINT, 'Qwen2.5-VL-7B-Instruct'));
  const cond = await openFolderWeights(join(MQ_CHECKPOINT, 'conditioner'), 'diffusion_pytorch_model.safetensors');
  const llmWeights = asSharedLlmWeights(vlm.weights);
  const built = {
    vision: buildGraph(withFlatPatchEmbed(vlm.weights), (ctx) => buildVisionGraph(ctx, vlmConfig.vision), dtype),
    embed: buildGraph(llmWeights, (ctx) => buildEmbedGraph(ctx, vlmConfig), dtype),
    llm: buildGraph(llmWeights, (ctx) => buildLlmGraph(ctx, vlmConfig, { rotary: 'angles' }), dtype),
    lm_head: buildGraph(llmWeights, (ctx) => buildLmHeadGraph(ctx, vlmConfig), dtype),
    conditioner: buildGraph(cond.weights, (ctx) => buildConditionerGraph(ctx, conditionerConfig), dtype),
  };
  const metaQueries = cond.weights.float32('meta_queries');
  await vlm.close();
  await cond.close();
  const backend = runtime === 'web' ? new WebOrtBackend() : new NodeOrtBackend();
  await backend.init({ device: runtime === 'web' ? 'wasm' : 'cpu' });
  const sessions = new Map<string, BackendSession>();
  const checked = new CheckedGraphs(async (name) => {
    let session = sessions.get(name);
    if (!session) {
      const graph = built[name as MqGraphName];
      session = await backend.createSession({
        name,
        bytes: graph.bytes,
        ...(graph.data.length ? { externalData: [{ path: 'graph.data', data: graph.data }] } : {}),
      });
      sessions.set(name, session);
    }
    return session;
  });
  const graphs: MqGraphs = { run: (name, feeds, options) => checked.run(name as unknown as GraphName, feeds, options) };
  return {
    graphs,
    metaQueries,
    dispose: async () => {
      for (const s of sessions.values()) await s.dispose();
      await backend.dispose();
    },
  };
}
