import { graphPlans } from '../../src/families/unipic1/convert/graph-plan.js';
import { requiredTensors } from '../../src/families/unipic1/convert/key-map.js';
import { Q4_BLOCK_SIZE } from '../../src/convert/quantize/q4-blocks.js';
import { toModelConfig, type CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import type { UniPic1GraphName as GraphName } from '../../src/families/unipic1/manifest.js';

/** Weights kept float in q4 graphs: not projections, or projections too small for 4-bit blocks. */
const FLOAT_IN_Q4 = /^mar\.(z_proj\.weight|fake_latent)$/;
const EMBED = 'llm.model.embed_tokens.weight';

/**
 * Bytes of a graph's weights for a dtype (fp32 or q4), from the structure's tensor shapes and the
 * converter's storage rules (src/convert/graphs/layers/linear.ts, embed-graph.ts): q4 projections are
 * MatMulNBits blocks of 32 (16 bytes of codes, a float32 scale, half a byte of zero point per
 * block), the q4 embedding the same blocks for GatherBlockQuantized, and norms, biases, tables and
 * every VAE weight float32. Used to extrapolate memory measured on a shallower model to full depth;
 * the memory section checks it against the files the converter wrote.
 */
export function graphWeightBytes(structure: CheckpointConfig, graph: GraphName, dtype: 'fp32' | 'q4'): number {
  const plan = graphPlans(structure, toModelConfig(structure)).find((p) => p.name === graph);
  if (!plan) throw new Error(`no graph ${graph}`);
  let total = 0;
  for (const [name, shape] of requiredTensors(structure)) {
    if (!plan.keys(name)) continue;
    const count = shape.reduce((a, b) => a * b, 1);
    const quantized = dtype === 'q4' && plan.quantizable && shape.length === 2 && !FLOAT_IN_Q4.test(name);
    if (!quantized) {
      total += 4 * count;
      continue;
    }
    const [rows, columns] = shape;
    const blocks = Math.ceil(columns / Q4_BLOCK_SIZE);
    const codes = graph === 'embed' && name === EMBED ? rows * Math.ceil(columns / 2) : rows * blocks * (Q4_BLOCK_SIZE / 2);
    total += codes + rows * blocks * 4 + rows * Math.ceil(blocks / 2);
  }
  return total;
}
