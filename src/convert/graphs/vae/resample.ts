import type { GraphContext } from '../weights.js';
import { conv2d } from './conv.js';

/**
 * LDM `Downsample` with conv: zero-pad right and bottom by one, then 3×3 stride-2 unpadded conv.
 * `convName` is the conv's key under `prefix` (`conv` in LDM, `1` in Qwen-Image's Sequential).
 */
export function downsample(ctx: GraphContext, x: string, prefix: string, convName = 'conv'): string {
  // Conv's own asymmetric pads are exactly F.pad(x, (0, 1, 0, 1)) with zeros.
  return conv2d(ctx, x, `${prefix}.${convName}`, { stride: 2, pads: [0, 0, 1, 1] });
}

/** LDM `Upsample` with conv: nearest ×2 (`F.interpolate(mode='nearest')`), then a 3×3 conv (`convName` as for downsample). */
export function upsample(ctx: GraphContext, x: string, prefix: string, convName = 'conv'): string {
  const { builder } = ctx;
  const doubled = builder.op('Resize', [x, '', builder.constFloat([1, 1, 2, 2])], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
  return conv2d(ctx, doubled, `${prefix}.${convName}`);
}
