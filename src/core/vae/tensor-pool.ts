/**
 * Reuses the full-resolution buffers of a strip decode: a stage's output takes a dead tensor of
 * the same length instead of a new allocation, so the peak is the live tensors, not whatever the
 * garbage collector has not yet freed. Buffers of another length are dropped when the size changes.
 */
export class TensorPool {
  private free: Float32Array[] = [];

  take(length: number): Float32Array {
    const index = this.free.findIndex((buffer) => buffer.length === length);
    if (index >= 0) return this.free.splice(index, 1)[0];
    this.free = [];
    return new Float32Array(length);
  }

  give(buffer: Float32Array): void {
    this.free.push(buffer);
  }
}
