import { geluTanh } from '../../../../convert/graphs/layers/activations.js';
import { layerNorm } from '../../../../convert/graphs/layers/layer-norm.js';
import { linear, type LinearOptions } from '../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../convert/graphs/weights.js';
import type { ConditionerConfig } from '../conditioner-config.js';

/**
 * `conditioner` graph (the official `StableDiffusion3Conditioner`): `query_hidden [B, Q, llm]` (the
 * VLM's last hidden state at the meta-query slots) → `prompt_embeds [B, Q, joint]` and
 * `pooled_prompt_embeds [B, pooled]`. projector_1, then pre-LN encoder layers (bidirectional MHA
 * without mask or positions, scale 1/√d; MLP with tanh-GELU), then projector_3 per token and
 * projector_2 on the token mean. Weights keep their `conditioner/` names.
 */
export function buildConditionerGraph(ctx: GraphContext, config: ConditionerConfig, options: { linear?: Omit<LinearOptions, 'quantize'> } = {}): void {
  const { builder } = ctx;
  const lin = options.linear ?? {};
  const width = config.hiddenSize;
  const headDim = width / config.numHeads;
  const input = builder.input('query_hidden', 'float32', ['batch', 'queries', config.llmHiddenSize]);
  let x = linear(ctx, input, 'projector_1.weight', 'projector_1.bias', lin);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `connector.layers.${i}`;
    const normed = layerNorm(ctx, x, width, config.layerNormEps, `${p}.layer_norm1.weight`, `${p}.layer_norm1.bias`);
    const split = (name: string): string =>
      builder.op(
        'Transpose',
        [
          builder.op('Reshape', [
            linear(ctx, normed, `${p}.self_attn.${name}.weight`, `${p}.self_attn.${name}.bias`, lin),
            builder.constInt64([0, 0, config.numHeads, headDim]),
          ]),
        ],
        {
          perm: [0, 2, 1, 3],
        },
      );
    const q = split('q_proj');
    const kT = builder.op('Transpose', [split('k_proj')], { perm: [0, 1, 3, 2] });
    const v = split('v_proj');
    const weights = builder.op('Softmax', [builder.op('Mul', [builder.op('MatMul', [q, kT]), builder.constFloat([1 / Math.sqrt(headDim)], [])])], { axis: -1 });
    const context = builder.op('Reshape', [
      builder.op('Transpose', [builder.op('MatMul', [weights, v])], { perm: [0, 2, 1, 3] }),
      builder.constInt64([0, 0, width]),
    ]);
    x = builder.op('Add', [x, linear(ctx, context, `${p}.self_attn.out_proj.weight`, `${p}.self_attn.out_proj.bias`, lin)]);
    const mlpIn = layerNorm(ctx, x, width, config.layerNormEps, `${p}.layer_norm2.weight`, `${p}.layer_norm2.bias`);
    const inner = geluTanh(builder, linear(ctx, mlpIn, `${p}.mlp.fc1.weight`, `${p}.mlp.fc1.bias`, lin));
    x = builder.op('Add', [x, linear(ctx, inner, `${p}.mlp.fc2.weight`, `${p}.mlp.fc2.bias`, lin)]);
  }
  builder.output(linear(ctx, x, 'projector_3.weight', 'projector_3.bias', lin), 'prompt_embeds', 'float32', ['batch', 'queries', config.jointAttentionDim]);
  const mean = builder.op('ReduceMean', [x, builder.constInt64([1])], { keepdims: 0 });
  builder.output(linear(ctx, mean, 'projector_2.weight', 'projector_2.bias', lin), 'pooled_prompt_embeds', 'float32', ['batch', config.pooledProjectionDim]);
}
