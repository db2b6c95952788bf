import type { FileHandle } from 'node:fs/promises';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { parseSafetensorsHeader, readSafetensorsHeaderLength, SAFETENSORS_PREFIX_BYTES } from '../../formats/safetensors.js';
import { contiguousStride } from '../../formats/strided-layout.js';
import { readExactly } from './file-range.js';
import { lookupTensor, readTensorBytes, readTensorFloat32 } from './read-tensor.js';
import type { StorageDescriptor, TensorDescriptor, TensorSource } from './tensor-descriptor.js';
import { checkpointFileSize, openCheckpointFile } from './arriving-files.js';

/** One `.safetensors` file: the header is read and checked at open, each tensor is read on demand. */
export class SafetensorsFile implements TensorSource {
  readonly format = 'safetensors' as const;
  readonly skipped: readonly string[] = [];

  private constructor(
    readonly path: string,
    readonly tensors: ReadonlyMap<string, TensorDescriptor>,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await openCheckpointFile(path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelNotFoundError(`safetensors file ${path} does not exist`, { cause });
      throw cause;
    }
    try {
      const size = checkpointFileSize(path, (await handle.stat()).size);
      if (size < SAFETENSORS_PREFIX_BYTES) throw new InvalidModelError(`${path} is too short to be safetensors (${size} bytes)`);
      const prefix = await readExactly(handle, 0, SAFETENSORS_PREFIX_BYTES, path);
      const headerLength = readSafetensorsHeaderLength(prefix, size, path);
      const headerBytes = await readExactly(handle, SAFETENSORS_PREFIX_BYTES, headerLength, path);
      const dataStart = SAFETENSORS_PREFIX_BYTES + headerLength;
      const header = parseSafetensorsHeader(headerBytes, size - dataStart, path);
      const tensors = new Map<string, TensorDescriptor>();
      for (const info of header.tensors) {
        const storage: StorageDescriptor = {
          id: `${path}:${info.name}`,
          file: path,
          fileOffset: dataStart + info.begin,
          byteLength: info.end - info.begin,
        };
        tensors.set(info.name, {
          name: info.name,
          dtype: info.dtype,
          shape: info.shape,
          stride: contiguousStride(info.shape),
          storageOffset: 0,
          storage,
        });
      }
      return new SafetensorsFile(path, tensors, header.metadata, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private readonly readRange = (storage: StorageDescriptor, start: number, length: number): Promise<Uint8Array> =>
    readExactly(this.handle, (storage.fileOffset as number) + start, length, this.path);

  async readBytes(name: string): Promise<Uint8Array> {
    return readTensorBytes(lookupTensor(this.tensors, name, this.path), this.readRange);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return readTensorFloat32(lookupTensor(this.tensors, name, this.path), this.readRange);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export function openSafetensorsFile(path: string): Promise<SafetensorsFile> {
  return SafetensorsFile.open(path);
}
