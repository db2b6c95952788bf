import type { UniPic1Context as CallContext } from '../call-context.js';
import type { PositionTables } from '../mar/position-tables.js';

/** Tables for a call's size; a size the converter did not precompute is resized and warned about. */
export function tablesForCall(context: CallContext, size: number): Promise<PositionTables> {
  if (context.assets.sizeSupport(size) === 'interpolated') {
    context.warn(
      'size-interpolated',
      `size ${size} was not converted (converted: ${context.assets.sizes.join(', ')}); its position tables are resized from the native grid at run time, and quality away from the trained sizes is untested`,
    );
  }
  return context.assets.positionTables(size);
}
