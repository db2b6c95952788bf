import { describe, expect, it } from 'vitest';
import { parseConditionerConfig } from '../../../src/families/unipic2-metaquery/convert/conditioner-config.js';
import { parseVlmConfig } from '../../../src/convert/graphs/qwen-vl/vlm-config.js';

// Qwen2.5-VL-7B-Instruct's published config.json numbers, flat schema.
const PUBLISHED_7B = {
  architectures: ['Qwen2_5_VLForConditionalGeneration'],
  model_type: 'qwen2_5_vl',
  hidden_act: 'silu',
  hidden_size: 3584,
  intermediate_size: 18944,
  max_position_embeddings: 128000,
  num_attention_heads: 28,
  num_hidden_layers: 28,
  num_key_value_heads: 4,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  tie_word_embeddings: false,
  use_sliding_window: false,
  vocab_size: 152064,
  image_token_id: 151655,
  vision_start_token_id: 151652,
  vision_end_token_id: 151653,
  rope_scaling: { type: 'mrope', mrope_section: [16, 24, 24] },
  vision_config: {
    depth: 32,
    hidden_act: 'silu',
    hidden_size: 1280,
    intermediate_size: 3420,
    num_heads: 16,
    out_hidden_size: 3584,
    patch_size: 14,
    spatial_merge_size: 2,
    temporal_patch_size: 2,
    window_size: 112,
    fullatt_block_indexes: [7, 15, 23, 31],
    tokens_per_second: 2,
  },
};

describe('Metaquery config readers', () => {
  it('the published 7B config (flat) and the nested text_config schema give the same numbers', () => {
    const flat = parseVlmConfig(PUBLISHED_7B);
    expect(flat.llm).toMatchObject({ hiddenSize: 3584, numLayers: 28, numHeads: 28, numKeyValueHeads: 4, headDim: 128, ropeTheta: 1e6, vocabSize: 152064 });
    expect(flat.mropeSection).toEqual([16, 24, 24]);
    expect(flat.vision).toMatchObject({
      depth: 32,
      hiddenSize: 1280,
      numHeads: 16,
      headDim: 80,
      outHiddenSize: 3584,
      windowSize: 112,
      fullAttentionBlocks: [7, 15, 23, 31],
    });
    expect(flat.tieWordEmbeddings).toBe(false);
    const {
      hidden_size,
      intermediate_size,
      num_attention_heads,
      num_hidden_layers,
      num_key_value_heads,
      rope_scaling,
      vocab_size,
      rope_theta,
      rms_norm_eps,
      max_position_embeddings,
      ...rest
    } = PUBLISHED_7B;
    const nested = parseVlmConfig({
      ...rest,
      text_config: {
        hidden_size,
        intermediate_size,
        num_attention_heads,
        num_hidden_layers,
        num_key_value_heads,
        vocab_size,
        rope_theta,
        rms_norm_eps,
        max_position_embeddings,
        rope_scaling: { ...rope_scaling, rope_type: 'default' },
      },
    });
    expect(nested).toEqual(flat);
  });

  it('refuses what would change the maths', () => {
    expect(() => parseVlmConfig({ ...PUBLISHED_7B, use_sliding_window: true })).toThrow(/sliding/);
    expect(() => parseVlmConfig({ ...PUBLISHED_7B, rope_scaling: { type: 'yarn', mrope_section: [16, 24, 24] } })).toThrow(/rope type/);
    expect(() => parseVlmConfig({ ...PUBLISHED_7B, rope_scaling: { type: 'mrope', mrope_section: [16, 24, 20] } })).toThrow(/mrope_section/);
    expect(() => parseVlmConfig({ ...PUBLISHED_7B, vision_config: { ...PUBLISHED_7B.vision_config, hidden_act: 'gelu' } })).toThrow(/hidden_act/);
  });

  it('conditioner: the stub keys with ConnectorConfig defaults; flash_attention_2 accepted; other activations refused', () => {
    const stub = {
      connector_config: { hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 24, _attn_implementation: 'flash_attention_2', num_attention_heads: 24 },
      num_queries: 256,
      llm_hidden_size: 3584,
      pooled_projection_dim: 2048,
      joint_attention_dim: 4096,
    };
    expect(parseConditionerConfig(stub)).toEqual({
      numQueries: 256,
      llmHiddenSize: 3584,
      pooledProjectionDim: 2048,
      jointAttentionDim: 4096,
      hiddenSize: 1536,
      intermediateSize: 8960,
      numLayers: 24,
      numHeads: 24,
      layerNormEps: 1e-6,
    });
    expect(() => parseConditionerConfig({ ...stub, connector_config: { ...stub.connector_config, hidden_act: 'gelu' } })).toThrow(/hidden_act/);
  });
});
