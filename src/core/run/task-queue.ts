/** @deprecated The one serial queue is `SerialQueue` (src/spec/serial-queue.ts); this name stays for older imports. */
export { SerialQueue as TaskQueue } from '../../spec/serial-queue.js';
