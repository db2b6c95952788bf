import { open } from 'node:fs/promises';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { unpickle } from '../../formats/pickle/pickle-machine.js';
import { torchPicklePolicy } from '../../formats/torch/torch-pickle-policy.js';
import { collectTorchTensors } from '../../formats/torch/torch-state-dict.js';
import { DTYPE_BYTE_SIZE } from '../../formats/tensor-dtype.js';
import { lookupTensor, readTensorBytes, readTensorFloat32, validateView } from './read-tensor.js';
import type { StorageDescriptor, TensorDescriptor, TensorSource } from './tensor-descriptor.js';
import { ZipArchive } from './zip-archive.js';
import { awaitWholeCheckpointFile } from './arriving-files.js';

export interface OpenTorchCheckpointOptions {
  /**
   * Keys to descend into before collecting tensors: `['model']` for `kl16.ckpt`, whose state
   * dict sits under "model". Everything else in the file is parsed (it must be plain data) but
   * not exposed.
   */
  readonly select?: readonly string[];
}

// data.pkl of a state dict is a few hundred bytes per tensor; 256 MiB is far beyond any honest one.
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
const DATA_PICKLE = /^([^/]+)\/data\.pkl$/;

/** A `torch.save` zip checkpoint (PyTorch ≥ 1.6), read lazily: tensors come off the disk one at a time. */
export class TorchCheckpoint implements TensorSource {
  readonly format = 'pytorch' as const;

  private constructor(
    readonly path: string,
    readonly tensors: ReadonlyMap<string, TensorDescriptor>,
    readonly skipped: readonly string[],
    /** The archive's folder name (`archive` for recent PyTorch). */
    readonly archiveName: string,
    private readonly archive: ZipArchive,
  ) {}

  static async open(path: string, options: OpenTorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
    awaitWholeCheckpointFile(path);
    await refuseNonZip(path);
    const archive = await ZipArchive.open(path);
    try {
      const archiveName = findArchiveName(archive);
      const byteOrder = archive.entries.get(`${archiveName}/byteorder`);
      if (byteOrder) {
        const text = new TextDecoder().decode(await archive.readEntry(byteOrder.name, 16)).trim();
        if (text !== 'little') {
          throw new InvalidModelError(`${path} stores tensors in "${text.slice(0, 16)}" byte order; only little-endian checkpoints are supported`);
        }
      }
      const pickle = await archive.readEntry(`${archiveName}/data.pkl`, MAX_PICKLE_BYTES);
      const root = unpickle(pickle, torchPicklePolicy, `${path} data.pkl`);
      const collected = collectTorchTensors(root, options.select ?? []);
      const storages = new Map<string, StorageDescriptor>();
      const tensors = new Map<string, TensorDescriptor>();
      for (const [name, record] of collected.tensors) {
        const entryName = `${archiveName}/data/${record.storage.key}`;
        const entry = archive.entries.get(entryName);
        if (!entry) throw new InvalidModelError(`${path}: tensor "${name}" needs storage entry "${entryName}", which is missing`);
        const needed = record.storage.elementCount * DTYPE_BYTE_SIZE[record.storage.dtype];
        if (entry.uncompressedSize < needed) {
          throw new InvalidModelError(
            `${path}: storage "${entryName}" holds ${entry.uncompressedSize} bytes but ${record.storage.elementCount} ${record.storage.dtype} elements need ${needed}`,
          );
        }
        let storage = storages.get(entryName);
        if (!storage) {
          storage = { id: `${path}:${entryName}`, file: path, entry: entryName, byteLength: entry.uncompressedSize };
          storages.set(entryName, storage);
        }
        // The pickle's element count bounds the view, not the entry size: PyTorch would read no further.
        const descriptor: TensorDescriptor = {
          name,
          dtype: record.storage.dtype,
          shape: record.shape,
          stride: record.stride,
          storageOffset: record.storageOffset,
          storage: needed === storage.byteLength ? storage : { ...storage, byteLength: needed },
        };
        validateView(descriptor);
        tensors.set(name, descriptor);
      }
      return new TorchCheckpoint(path, tensors, collected.skipped, archiveName, archive);
    } catch (error) {
      await archive.close();
      throw error;
    }
  }

  private readonly readRange = (storage: StorageDescriptor, start: number, length: number): Promise<Uint8Array> =>
    this.archive.readRange(storage.entry as string, start, length);

  async readBytes(name: string): Promise<Uint8Array> {
    return readTensorBytes(lookupTensor(this.tensors, name, this.path), this.readRange);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return readTensorFloat32(lookupTensor(this.tensors, name, this.path), this.readRange);
  }

  /** The whole storage a tensor views (every element PyTorch saved for it), e.g. to re-save views with their sharing. */
  async readStorageBytes(name: string): Promise<Uint8Array> {
    const { storage } = lookupTensor(this.tensors, name, this.path);
    return this.readRange(storage, 0, storage.byteLength);
  }

  close(): Promise<void> {
    return this.archive.close();
  }
}

/** `torch.save` of PyTorch < 1.6 wrote a bare pickle stream; say so instead of "not a zip". */
async function refuseNonZip(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelNotFoundError(`checkpoint file ${path} does not exist`, { cause });
    throw cause;
  }
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead >= 2 && head[0] === 0x80 && head[1] <= 5) {
      throw new InvalidModelError(`${path} uses the legacy (pre-1.6) torch.save format; re-save it with a recent PyTorch (torch.save(torch.load(f), f))`);
    }
    if (bytesRead < 4 || head[0] !== 0x50 || head[1] !== 0x4b) {
      throw new InvalidModelError(`${path} is not a PyTorch zip checkpoint (no zip signature)`);
    }
  } finally {
    await handle.close();
  }
}

function findArchiveName(archive: ZipArchive): string {
  const names: string[] = [];
  for (const name of archive.entries.keys()) {
    const match = DATA_PICKLE.exec(name);
    if (match) names.push(match[1]);
  }
  if (names.length !== 1) {
    throw new InvalidModelError(`${archive.path}: expected one <folder>/data.pkl record in the zip, found ${names.length === 0 ? 'none' : names.join(', ')}`);
  }
  return names[0];
}

export function openTorchCheckpoint(path: string, options: OpenTorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
  return TorchCheckpoint.open(path, options);
}
