import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConditionerGraph } from '../../../src/families/unipic2-metaquery/convert/graphs/conditioner-graph.js';
import { buildVisionGraph, withFlatPatchEmbed } from '../../../src/convert/graphs/qwen-vl/vision-graph.js';
import { openFolderWeights, type FolderWeights } from '../../../src/convert/graphs/qwen-vl/folder-weights.js';
import { visionInputs } from '../../../src/core/qwen-vl/vision-inputs.js';
import { pixelPatches } from '../../../src/core/qwen-vl/pixel-patches.js';
import { torchBicubicResize } from '../../../src/core/qwen-vl/torch-bicubic-resize.js';
import { buildGraph, conditionerConfig, floatFeed, int64Feed, runGraph, vlmConfig } from './support/graph-harness.js';
import { MQ_CHECKPOINT, mqFloat, mqInt, mqShape, scaledError, testImage } from './support/goldens.js';

describe('Metaquery graphs against the oracle (fp32, 1e-4)', () => {
  let vlm: FolderWeights;
  let conditioner: FolderWeights;
  beforeAll(async () => {
    vlm = await openFolderWeights(join(MQ_CHECKPOINT, 'Qwen2.5-VL-7B-Instruct'));
    conditioner = await openFolderWeights(join(MQ_CHECKPOINT, 'conditioner'), 'diffusion_pytorch_model.safetensors');
  });
  afterAll(async () => {
    await vlm.close();
    await conditioner.close();
  });

  for (const prefix of ['understand.vision', 'edit.vision']) {
    it(`${prefix}: patch embed, every block (windowed and full), merger, image embeds`, async () => {
      const graph = buildGraph(withFlatPatchEmbed(vlm.weights), (ctx) => buildVisionGraph(ctx, vlmConfig.vision, { intermediates: true }));
      const [, gh, gw] = mqInt(`${prefix}.grid_thw`);
      const patches = pixelPatches(torchBicubicResize(testImage(), gw * 14, gh * 14));
      const inputs = visionInputs(gh, gw, vlmConfig.vision);
      const out = await runGraph(graph, {
        pixel_values: floatFeed(patches.data, [patches.rows, patches.rowWidth]),
        patch_order: int64Feed(inputs.patchOrder, [inputs.patchOrder.length]),
        rotary_angles: floatFeed(inputs.rotaryAngles, [patches.rows, vlmConfig.vision.headDim / 2]),
        window_slots: int64Feed(inputs.windowSlots, [inputs.windowSlots.length]),
        window_key_valid: int64Feed(inputs.windowKeyValid, [inputs.windows, inputs.slotsPerWindow]),
        window_unslots: int64Feed(inputs.windowUnslots, [inputs.windowUnslots.length]),
        merged_order: int64Feed(inputs.mergedOrder, [inputs.mergedOrder.length]),
      });
      // patch_embed is hooked before the window permutation; blocks after it.
      expect(scaledError(out.patch_embed.data, mqFloat(`${prefix}.patch_embed`))).toBeLessThan(1e-4);
      for (let b = 0; b < vlmConfig.vision.depth; b++) expect(scaledError(out[`block.${b}`].data, mqFloat(`${prefix}.block.${b}`))).toBeLessThan(1e-4);
      expect(scaledError(out.merger.data, mqFloat(`${prefix}.merger`))).toBeLessThan(1e-4);
      expect(Array.from(out.image_embeds.dims)).toEqual(mqShape(`${prefix}.image_embeds`));
      expect(scaledError(out.image_embeds.data, mqFloat(`${prefix}.image_embeds`))).toBeLessThan(1e-4);
    });
  }

  it('onnxruntime-web (wasm) runs the same vision and conditioner graphs to the same tolerance', async () => {
    const vision = buildGraph(withFlatPatchEmbed(vlm.weights), (ctx) => buildVisionGraph(ctx, vlmConfig.vision));
    const [, gh, gw] = mqInt('edit.vision.grid_thw');
    const patches = pixelPatches(torchBicubicResize(testImage(), gw * 14, gh * 14));
    const inputs = visionInputs(gh, gw, vlmConfig.vision);
    const out = await runGraph(
      vision,
      {
        pixel_values: floatFeed(patches.data, [patches.rows, patches.rowWidth]),
        patch_order: int64Feed(inputs.patchOrder, [inputs.patchOrder.length]),
        rotary_angles: floatFeed(inputs.rotaryAngles, [patches.rows, vlmConfig.vision.headDim / 2]),
        window_slots: int64Feed(inputs.windowSlots, [inputs.windowSlots.length]),
        window_key_valid: int64Feed(inputs.windowKeyValid, [inputs.windows, inputs.slotsPerWindow]),
        window_unslots: int64Feed(inputs.windowUnslots, [inputs.windowUnslots.length]),
        merged_order: int64Feed(inputs.mergedOrder, [inputs.mergedOrder.length]),
      },
      'web',
    );
    expect(scaledError(out.image_embeds.data, mqFloat('edit.vision.image_embeds'))).toBeLessThan(1e-4);
    const conditionerGraph = buildGraph(conditioner.weights, (ctx) => buildConditionerGraph(ctx, conditionerConfig));
    const cond = await runGraph(
      conditionerGraph,
      { query_hidden: floatFeed(mqFloat('conditioner.input'), [2, conditionerConfig.numQueries, conditionerConfig.llmHiddenSize]) },
      'web',
    );
    expect(scaledError(cond.prompt_embeds.data, mqFloat('conditioner.prompt_embeds'))).toBeLessThan(1e-4);
  });

  it('conditioner: prompt embeddings and pooled vector', async () => {
    const graph = buildGraph(conditioner.weights, (ctx) => buildConditionerGraph(ctx, conditionerConfig));
    for (const prefix of ['conditioner', 't2i', 'edit']) {
      const input = prefix === 'conditioner' ? mqFloat('conditioner.input') : mqFloat(`${prefix}.query_hidden`);
      const out = await runGraph(graph, { query_hidden: floatFeed(input, [2, conditionerConfig.numQueries, conditionerConfig.llmHiddenSize]) });
      expect(scaledError(out.prompt_embeds.data, mqFloat(`${prefix}.prompt_embeds`))).toBeLessThan(1e-4);
      expect(scaledError(out.pooled_prompt_embeds.data, mqFloat(`${prefix}.pooled_prompt_embeds`))).toBeLessThan(1e-4);
    }
  });
});
