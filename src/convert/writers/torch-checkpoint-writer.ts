import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import yazl from 'yazl';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { contiguousStride, viewSpan } from '../../formats/strided-layout.js';
import { TORCH_STORAGE_DTYPES } from '../../formats/torch/torch-pickle-policy.js';
import { DTYPE_BYTE_SIZE, elementCount, type TensorDtype } from '../../formats/tensor-dtype.js';
import { PickleEncoder } from './pickle-encoder.js';

/** Bytes several tensors can view; pass the same object to make them share storage (tied weights). */
export interface TorchStorageInput {
  readonly dtype: TensorDtype;
  /** Little-endian element bytes. */
  readonly data: Uint8Array;
}

/**
 * A tensor to save: either `data` (contiguous bytes, its own storage) or `storage` with an
 * optional `stride` and `storageOffset` in elements (a view, possibly non-contiguous or shared).
 */
export interface TorchTensorInput {
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  readonly data?: Uint8Array;
  readonly storage?: TorchStorageInput;
  readonly stride?: readonly number[];
  readonly storageOffset?: number;
}

export interface WriteTorchCheckpointOptions {
  /** Save `{ [wrapKey]: state_dict }` instead of the bare state dict (`kl16.ckpt` uses "model"). */
  readonly wrapKey?: string;
  /** The zip's top folder; PyTorch ≥ 2 writes "archive". */
  readonly archiveName?: string;
}

const STORAGE_NAME_BY_DTYPE = new Map<TensorDtype, string>(Object.entries(TORCH_STORAGE_DTYPES).map(([name, dtype]) => [dtype, name]));
// Python's pickler flushes SETITEMS every 1000 pairs; do the same.
const BATCH = 1000;

/**
 * Writes a state dict the way `torch.save` does (zip format, protocol-2 pickle, one stored
 * `data/<key>` entry per storage), so `torch.load` reads it back. Tensors are ordered as given.
 * Entries are not padded to 64 bytes as PyTorch pads them: yazl has no hook for the local extra
 * field, and nothing but `torch.load(mmap=True)` speed depends on it.
 */
export async function writeTorchCheckpoint(
  path: string,
  tensors: Iterable<readonly [string, TorchTensorInput]>,
  options: WriteTorchCheckpointOptions = {},
): Promise<void> {
  const archive = options.archiveName ?? 'archive';
  const storageKeys = new Map<TorchStorageInput, string>();
  const storages: TorchStorageInput[] = [];
  const pickle = new PickleEncoder();

  if (options.wrapKey !== undefined) {
    pickle.emptyDict();
    pickle.memoize();
    pickle.string(options.wrapKey);
    pickle.memoize();
  }
  pickle.global('collections', 'OrderedDict');
  pickle.emptyTuple();
  pickle.reduce();
  pickle.memoize();
  let inBatch = 0;
  const names = new Set<string>();
  for (const [name, tensor] of tensors) {
    if (names.has(name)) throw new InvalidModelError(`torch writer: tensor "${name}" given twice`);
    names.add(name);
    const view = normalize(name, tensor);
    let key = storageKeys.get(view.storage);
    if (key === undefined) {
      key = String(storages.length);
      storageKeys.set(view.storage, key);
      storages.push(view.storage);
    }
    if (inBatch === 0) pickle.mark();
    pickle.string(name);
    pickle.memoize();
    writeTensor(pickle, view, key);
    if (++inBatch === BATCH) {
      pickle.setItems();
      inBatch = 0;
    }
  }
  if (inBatch > 0) pickle.setItems();
  if (options.wrapKey !== undefined) pickle.setItem();
  const dataPickle = pickle.finish();

  const zip = new yazl.ZipFile();
  const stored = { compress: false, mtime: new Date(0) } as const;
  zip.addBuffer(Buffer.from(dataPickle), `${archive}/data.pkl`, stored);
  zip.addBuffer(Buffer.from('little'), `${archive}/byteorder`, stored);
  storages.forEach((storage, index) => {
    const data = storage.data;
    zip.addBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength), `${archive}/data/${index}`, stored);
  });
  zip.addBuffer(Buffer.from('3\n'), `${archive}/version`, stored);
  await writeZipAtomically(zip, path);
}

/**
 * Finish `zip` into `path`: written beside the target and renamed at the end, so a failed run
 * never leaves a half checkpoint that a later run would mistake for a finished one.
 */
export async function writeZipAtomically(zip: yazl.ZipFile, path: string): Promise<void> {
  const partial = `${path}.partial`;
  const done = new Promise<void>((resolve, reject) => {
    const output = createWriteStream(partial);
    output.on('close', resolve);
    output.on('error', reject);
    zip.outputStream.on('error', reject);
    zip.outputStream.pipe(output);
  });
  zip.end();
  try {
    await done;
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** `kl16.ckpt`: the VAE state dict under "model", as the official loader expects. */
export function writeKl16Checkpoint(path: string, tensors: Iterable<readonly [string, TorchTensorInput]>): Promise<void> {
  return writeTorchCheckpoint(path, tensors, { wrapKey: 'model' });
}

interface NormalizedView {
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly storageOffset: number;
  readonly storage: TorchStorageInput;
}

function normalize(name: string, tensor: TorchTensorInput): NormalizedView {
  const what = `torch writer: tensor "${name}"`;
  if ((tensor.data === undefined) === (tensor.storage === undefined)) {
    throw new InvalidModelError(`${what} needs exactly one of data and storage`);
  }
  const itemSize = DTYPE_BYTE_SIZE[tensor.dtype];
  if (tensor.data !== undefined) {
    const needed = elementCount(tensor.shape, what) * itemSize;
    if (tensor.data.length !== needed) throw new InvalidModelError(`${what} has ${tensor.data.length} bytes, needs ${needed}`);
    if (tensor.stride !== undefined || tensor.storageOffset !== undefined) {
      throw new InvalidModelError(`${what}: stride and storageOffset describe a view; give storage with them`);
    }
    return {
      dtype: tensor.dtype,
      shape: tensor.shape,
      stride: contiguousStride(tensor.shape),
      storageOffset: 0,
      storage: { dtype: tensor.dtype, data: tensor.data },
    };
  }
  const storage = tensor.storage as TorchStorageInput;
  if (storage.dtype !== tensor.dtype) throw new InvalidModelError(`${what} is ${tensor.dtype} but its storage is ${storage.dtype}`);
  if (storage.data.length % itemSize !== 0) throw new InvalidModelError(`${what}: storage bytes are not whole elements`);
  const stride = tensor.stride ?? contiguousStride(tensor.shape);
  const storageOffset = tensor.storageOffset ?? 0;
  viewSpan(tensor.shape, stride, storageOffset, storage.data.length / itemSize, what);
  return { dtype: tensor.dtype, shape: tensor.shape, stride, storageOffset, storage };
}

function tuple(pickle: PickleEncoder, values: readonly number[]): void {
  pickle.mark();
  for (const value of values) pickle.int(value);
  pickle.tupleFromMark();
}

/** `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, OrderedDict())`. */
function writeTensor(pickle: PickleEncoder, view: NormalizedView, key: string): void {
  pickle.global('torch._utils', '_rebuild_tensor_v2');
  pickle.mark();
  pickle.mark();
  pickle.string('storage');
  pickle.global('torch', STORAGE_NAME_BY_DTYPE.get(view.dtype) as string);
  pickle.string(key);
  pickle.string('cpu');
  pickle.int(view.storage.data.length / DTYPE_BYTE_SIZE[view.dtype]);
  pickle.tupleFromMark();
  pickle.persistentId();
  pickle.int(view.storageOffset);
  tuple(pickle, view.shape);
  tuple(pickle, view.stride);
  pickle.bool(false);
  pickle.global('collections', 'OrderedDict');
  pickle.emptyTuple();
  pickle.reduce();
  pickle.tupleFromMark();
  pickle.reduce();
  pickle.memoize();
}
