import { describe, expect, it } from 'vitest';
import { METAQUERY_CONDITIONER_CONFIG, QWEN25_VL_7B_CONFIG } from '../../../bench/mq-full-size-checkpoint.js';
import { type ShapedTensor, vlmTensorShapes } from '../../../src/convert/graphs/qwen-vl/qwen25-vl-shapes.js';
import { conditionerTensorShapes } from '../../../src/families/unipic2-metaquery/convert/checkpoint-shapes.js';
import { parseConditionerConfig } from '../../../src/families/unipic2-metaquery/convert/conditioner-config.js';
import { accountVlmConfig } from '../../../src/convert/graphs/qwen-vl/vlm-config-rules.js';
import { accountConditionerConfig } from '../../../src/families/unipic2-metaquery/convert/config-rules.js';
import { planMetaqueryKeys } from '../../../src/families/unipic2-metaquery/convert/key-plan.js';
import { parseVlmConfig } from '../../../src/convert/graphs/qwen-vl/vlm-config.js';

const parameters = (tensors: readonly ShapedTensor[]) => tensors.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);

/**
 * The full-size benchmark's random checkpoint (bench/mq-full-size-checkpoint.ts) has the published
 * shapes: its configs pass the converter's config rules and key plan, and the tensors add up to the
 * parameter counts computed from the published configs (Qwen2.5-VL-7B-Instruct, the conditioner stub).
 */
describe('full-size Metaquery checkpoint shapes', () => {
  it('match the published parameter counts and the converter accepts them', () => {
    const vlm = vlmTensorShapes(QWEN25_VL_7B_CONFIG);
    const conditioner = conditionerTensorShapes(METAQUERY_CONDITIONER_CONFIG);
    expect(parameters(vlm.llm)).toBe(7_070_619_136);
    expect(parameters([vlm.lmHead])).toBe(544_997_376);
    expect(parameters(vlm.vision)).toBe(676_550_144);
    expect(parameters(conditioner)).toBe(903_509_504);
    expect(() => accountVlmConfig(QWEN25_VL_7B_CONFIG)).not.toThrow();
    expect(() => accountConditionerConfig(METAQUERY_CONDITIONER_CONFIG)).not.toThrow();
    const plan = planMetaqueryKeys(
      [...vlm.llm, ...vlm.vision, vlm.lmHead].map(([name]) => name),
      conditioner.map(([name]) => name),
      parseVlmConfig(QWEN25_VL_7B_CONFIG),
      parseConditionerConfig(METAQUERY_CONDITIONER_CONFIG),
    );
    expect(plan.lmHead).toEqual(['lm_head.weight']);
  });
});
