import { closeSync, readSync } from 'node:fs';
import { InvalidModelError } from '../errors/invalid-model-error.js';
import { bytesToFloat32 } from '../formats/float-conversion.js';
import { gatherStrided, isContiguous, viewSpan } from '../formats/strided-layout.js';
import { DTYPE_BYTE_SIZE } from '../formats/tensor-dtype.js';
import type { WeightSource } from './graphs/weights.js';
import type { TensorDescriptor } from './readers/tensor-descriptor.js';
import { awaitCheckpointBytes, openCheckpointFileSync } from './readers/arriving-files.js';
import { ZipArchive } from './readers/zip-archive.js';

// One readSync moves at most 2 GiB; stay far below.
const MAX_READ_BYTES = 1 << 30;

/** What CheckpointWeights needs of an opened checkpoint: its descriptors (any family, any format). */
export interface LocatedTensors {
  /** Shown in errors. */
  readonly root: string;
  readonly tensors: ReadonlyMap<string, TensorDescriptor>;
}

interface Located {
  readonly tensor: TensorDescriptor;
  /** Where the tensor's storage starts in `tensor.storage.file`. */
  readonly storageStart: number;
}

/**
 * The weights of one graph, read from the checkpoint file only when a graph builder asks for them.
 * Graph builders read synchronously, and prefetching a whole graph into memory costs its full
 * float32 size (5.2 GB for the 1.5B LLM, twice for a tied table); reading each tensor on demand
 * keeps one tensor (and the copies its builder makes) in memory at a time.
 *
 * Byte positions come from the opened checkpoint's descriptors, which its readers already checked
 * against the files (views inside storages, stored entries inside the zip), so this only reads.
 */
export class CheckpointWeights implements WeightSource {
  private constructor(
    private readonly located: ReadonlyMap<string, Located>,
    /** Open file descriptors by path, shared with subsets and closed by the source they came from. */
    private readonly handles: Map<string, number>,
  ) {}

  /**
   * The named tensors of `checkpoint`, located once: PyTorch zip entries resolve their data offsets
   * here, so a broken local header is found before anything is converted.
   */
  static async open(checkpoint: LocatedTensors, names: Iterable<string>): Promise<CheckpointWeights> {
    const located = new Map<string, Located>();
    const archives = new Map<string, ZipArchive>();
    try {
      for (const name of names) {
        const tensor = checkpoint.tensors.get(name);
        if (!tensor) throw new InvalidModelError(`${checkpoint.root} has no tensor "${name}"`);
        const { storage } = tensor;
        let storageStart: number;
        if (storage.entry !== undefined) {
          let archive = archives.get(storage.file);
          if (!archive) {
            archive = await ZipArchive.open(storage.file);
            archives.set(storage.file, archive);
          }
          storageStart = (await archive.dataRange(storage.entry)).offset;
        } else if (storage.fileOffset !== undefined) {
          storageStart = storage.fileOffset;
        } else {
          throw new InvalidModelError(`tensor "${name}" has neither a zip entry nor a file offset`);
        }
        located.set(name, { tensor, storageStart });
      }
    } finally {
      await Promise.all([...archives.values()].map((archive) => archive.close()));
    }
    return new CheckpointWeights(located, new Map());
  }

  /**
   * The same source limited to `names` (one graph's weights: `has` answers for these alone). It
   * shares this source's open files; close this one, not the subset.
   */
  subset(names: Iterable<string>): WeightSource {
    const located = new Map<string, Located>();
    for (const name of names) located.set(name, this.locate(name));
    return new CheckpointWeights(located, this.handles);
  }

  has(name: string): boolean {
    return this.located.has(name);
  }

  shape(name: string): readonly number[] {
    return this.locate(name).tensor.shape;
  }

  float32(name: string): Float32Array {
    const { tensor, storageStart } = this.locate(name);
    const itemSize = DTYPE_BYTE_SIZE[tensor.dtype];
    const what = `tensor "${name}"`;
    const span = viewSpan(tensor.shape, tensor.stride, tensor.storageOffset, Math.floor(tensor.storage.byteLength / itemSize), what);
    if (span.length === 0) return new Float32Array(0);
    const bytes = this.read(tensor.storage.file, storageStart + span.first * itemSize, span.length * itemSize);
    const dense = isContiguous(tensor.shape, tensor.stride) ? bytes : gatherStrided(bytes, tensor.shape, tensor.stride, itemSize);
    // `bytes` is a fresh buffer, so a float32 view of it is already the caller's own copy.
    return bytesToFloat32(dense, tensor.dtype, what);
  }

  close(): void {
    for (const handle of this.handles.values()) closeSync(handle);
    this.handles.clear();
  }

  private locate(name: string): Located {
    const found = this.located.get(name);
    if (!found) throw new InvalidModelError(`missing weight ${name}`);
    return found;
  }

  private read(file: string, position: number, length: number): Uint8Array {
    let handle = this.handles.get(file);
    if (handle === undefined) {
      handle = openCheckpointFileSync(file);
      this.handles.set(file, handle);
    }
    // A streamed download (hf:) may not have reached these bytes yet.
    awaitCheckpointBytes(file, position + length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const bytesRead = readSync(handle, out, done, Math.min(MAX_READ_BYTES, length - done), position + done);
      if (bytesRead === 0) {
        throw new InvalidModelError(
          `${file} ends at byte ${position + done}, but ${position + length} bytes were expected (changed or truncated while converting?)`,
        );
      }
      done += bytesRead;
    }
    return out;
  }
}
