import type { Capability, GraphName } from '../../spec/manifest.js';

/** Events of the model emitter (`model.on(...)`), typed for eventemitter3. */
export interface UniPicEvents {
  /** A non-fatal problem (device or dtype fallback). Runs also report their own as `warning` events. */
  warning: [warning: { code: string; message: string }];
  /** A graph's session was created (lazily on first use, or eagerly at load). */
  'session-create': [info: { graph: GraphName; ms: number }];
  /** A graph's session was freed before `dispose` (a `lowMemory` model, after a call was done with it). */
  'session-release': [info: { graph: GraphName }];
  /** A call started running (after waiting in the queue). */
  'run-start': [info: { capability: Capability; id: number }];
  /** A call ended: `outcome` says how. */
  'run-end': [info: { capability: Capability; id: number; outcome: 'success' | 'error' | 'aborted'; ms: number }];
  /** The model was disposed. */
  dispose: [];
}
