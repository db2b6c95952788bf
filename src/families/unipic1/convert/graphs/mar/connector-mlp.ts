import { silu } from '../../../../../convert/graphs/layers/activations.js';
import { linear } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';

/** UniPic's `build_mlp`: Linear, SiLU, Linear, stored as `<prefix>.0` and `<prefix>.2`. */
export function connectorMlp(ctx: GraphContext, x: string, prefix: 'proj_in' | 'proj_out'): string {
  const hidden = silu(ctx.builder, linear(ctx, x, `${prefix}.0.weight`, `${prefix}.0.bias`));
  return linear(ctx, hidden, `${prefix}.2.weight`, `${prefix}.2.bias`);
}
