import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { PicklePolicy } from '../pickle/pickle-machine.js';
import { describePickleValue, PickleDict, PickleList, PickleObject, PickleTuple, type PickleValue } from '../pickle/pickle-values.js';
import type { TensorDtype } from '../tensor-dtype.js';

/**
 * The globals a `torch.save` of a state dict refers to, and nothing else. It is the same idea as
 * `torch.load(weights_only=True)`: tensors, storages, ordered dicts and plain data. Any other
 * global (`posix.system`, `builtins.eval`, a numpy scalar, a training-args class) is refused
 * with its name; nothing is ever imported or executed.
 */

export const TORCH_STORAGE_DTYPES: Readonly<Record<string, TensorDtype>> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** `torch.FloatStorage` and friends: only ever used inside a persistent id. */
export class TorchStorageType extends PickleObject {
  constructor(
    readonly storageName: string,
    readonly dtype: TensorDtype,
  ) {
    super();
  }
  get description(): string {
    return `torch.${this.storageName}`;
  }
}

/** A persistent id `('storage', StorageType, key, location, numel)`: the bytes live in `data/<key>`. */
export class TorchStorageReference extends PickleObject {
  constructor(
    readonly key: string,
    readonly dtype: TensorDtype,
    readonly location: string,
    readonly elementCount: number,
  ) {
    super();
  }
  get description(): string {
    return `storage ${this.key}`;
  }
}

/** A tensor as `_rebuild_tensor_v2` would build it; shape, stride and offset are in elements. */
export class TorchTensorRecord extends PickleObject {
  readonly description = 'tensor';
  constructor(
    readonly storage: TorchStorageReference,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
  ) {
    super();
  }
}

/** `torch.Tensor` / `torch.nn.parameter.Parameter`: only valid as `_rebuild_from_type_v2`'s type. */
class TorchTensorClass extends PickleObject {
  constructor(readonly description: string) {
    super();
  }
}

class AllowedCallable extends PickleObject {
  constructor(
    readonly description: string,
    override readonly call: (args: readonly PickleValue[]) => PickleValue,
  ) {
    super();
  }
}

function fail(message: string): never {
  throw new InvalidModelError(`checkpoint pickle: ${message}`);
}

function integerTuple(value: PickleValue, what: string): number[] {
  if (!(value instanceof PickleTuple)) fail(`${what} is a ${describePickleValue(value)}, not a tuple`);
  return value.items.map((item) => {
    if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0) fail(`${what} holds ${String(item)}`);
    return item;
  });
}

function arity(args: readonly PickleValue[], min: number, max: number, name: string): void {
  if (args.length < min || args.length > max) fail(`${name} called with ${args.length} arguments`);
}

function tensorArgument(value: PickleValue, name: string): TorchTensorRecord {
  if (!(value instanceof TorchTensorRecord)) fail(`${name} expects a tensor, got a ${describePickleValue(value)}`);
  return value;
}

function hooks(value: PickleValue, name: string): void {
  // Backward hooks are an OrderedDict of callables; any callable would already have been refused
  // as a global, so a dict here is inert. Accept only a dict (or None).
  if (value !== null && !(value instanceof PickleDict)) fail(`${name}: backward hooks are a ${describePickleValue(value)}`);
}

const rebuildTensor = new AllowedCallable('torch._utils._rebuild_tensor_v2', (args) => {
  const name = '_rebuild_tensor_v2';
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  arity(args, 6, 7, name);
  const [storage, offset, size, stride, requiresGrad, backwardHooks] = args;
  if (!(storage instanceof TorchStorageReference)) fail(`${name}: first argument is a ${describePickleValue(storage)}, not a storage`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) fail(`${name}: storage offset ${String(offset)}`);
  const shape = integerTuple(size, `${name} size`);
  const strides = integerTuple(stride, `${name} stride`);
  if (strides.length !== shape.length) fail(`${name}: ${strides.length} strides for ${shape.length} dimensions`);
  if (typeof requiresGrad !== 'boolean') fail(`${name}: requires_grad is a ${describePickleValue(requiresGrad)}`);
  hooks(backwardHooks, name);
  return new TorchTensorRecord(storage, offset, shape, strides, requiresGrad);
});

function asParameter(args: readonly PickleValue[], name: string): TorchTensorRecord {
  const data = tensorArgument(args[0], name);
  if (typeof args[1] !== 'boolean') fail(`${name}: requires_grad is a ${describePickleValue(args[1])}`);
  hooks(args[2], name);
  return new TorchTensorRecord(data.storage, data.storageOffset, data.shape, data.stride, args[1]);
}

const rebuildParameter = new AllowedCallable('torch._utils._rebuild_parameter', (args) => {
  arity(args, 3, 3, '_rebuild_parameter');
  return asParameter(args, '_rebuild_parameter');
});

// The fourth argument carries Python attributes set on the Parameter; they hold no weights.
const rebuildParameterWithState = new AllowedCallable('torch._utils._rebuild_parameter_with_state', (args) => {
  arity(args, 4, 4, '_rebuild_parameter_with_state');
  return asParameter(args, '_rebuild_parameter_with_state');
});

// Used when a tensor carries Python attributes: (func, type, args, state). The func must be one of
// the inert rebuild functions above; the attributes are dropped.
const rebuildFromType = new AllowedCallable('torch._tensor._rebuild_from_type_v2', (args) => {
  const name = '_rebuild_from_type_v2';
  arity(args, 4, 4, name);
  const [func, type, innerArgs] = args;
  if (func !== rebuildTensor && func !== rebuildParameter && func !== rebuildParameterWithState) {
    fail(`${name} wraps ${describePickleValue(func)}, not a tensor rebuild function`);
  }
  if (!(type instanceof TorchTensorClass)) fail(`${name} builds a ${describePickleValue(type)}`);
  if (!(innerArgs instanceof PickleTuple)) fail(`${name} arguments are not a tuple`);
  return tensorArgument((func as AllowedCallable).call(innerArgs.items), name);
});

const orderedDict = new AllowedCallable('collections.OrderedDict', (args) => {
  arity(args, 0, 1, 'OrderedDict');
  const dict = new PickleDict();
  if (args.length === 1) {
    // OrderedDict([(key, value), ...]) — older pickles of small dicts.
    const pairs = args[0];
    if (!(pairs instanceof PickleList) && !(pairs instanceof PickleTuple)) fail('OrderedDict argument is not a list of pairs');
    for (const pair of pairs.items) {
      if (!(pair instanceof PickleTuple) || pair.items.length !== 2) fail('OrderedDict argument is not a list of pairs');
      const key = pair.items[0];
      if (typeof key !== 'string' && typeof key !== 'number') fail(`OrderedDict key is a ${describePickleValue(key)}`);
      dict.entries.set(key, pair.items[1]);
    }
  }
  return dict;
});

const ALLOWED = new Map<string, PickleObject>([
  ['collections.OrderedDict', orderedDict],
  ['torch._utils._rebuild_tensor_v2', rebuildTensor],
  ['torch._utils._rebuild_parameter', rebuildParameter],
  ['torch._utils._rebuild_parameter_with_state', rebuildParameterWithState],
  ['torch._tensor._rebuild_from_type_v2', rebuildFromType],
  ['torch.Tensor', new TorchTensorClass('torch.Tensor')],
  ['torch.nn.parameter.Parameter', new TorchTensorClass('torch.nn.parameter.Parameter')],
  ...Object.entries(TORCH_STORAGE_DTYPES).map(
    ([storageName, dtype]) => [`torch.${storageName}`, new TorchStorageType(storageName, dtype)] as [string, PickleObject],
  ),
]);

const STORAGE_KEY = /^[A-Za-z0-9_]{1,64}$/;

/** The policy for `data.pkl` of a PyTorch zip checkpoint. */
export const torchPicklePolicy: PicklePolicy = {
  resolveGlobal(module, name) {
    const allowed = ALLOWED.get(`${module}.${name}`);
    if (!allowed) {
      const shown = `${module}.${name}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
      throw new InvalidModelError(`checkpoint pickle refers to the global "${shown}", which is not allowed in a weights file (nothing was executed)`, {
        details: { global: shown },
      });
    }
    return allowed;
  },
  persistentLoad(persistentId) {
    if (!(persistentId instanceof PickleTuple) || persistentId.items.length !== 5 || persistentId.items[0] !== 'storage') {
      fail(`unsupported persistent id (a ${describePickleValue(persistentId)})`);
    }
    const [, type, key, location, count] = persistentId.items;
    if (!(type instanceof TorchStorageType)) fail(`storage type is a ${describePickleValue(type)}`);
    if (typeof key !== 'string' || !STORAGE_KEY.test(key)) fail(`storage key ${JSON.stringify(String(key)).slice(0, 80)} is not a plain name`);
    if (typeof location !== 'string') fail(`storage location is a ${describePickleValue(location)}`);
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) fail(`storage size ${String(count)}`);
    return new TorchStorageReference(key, type.dtype, location, count);
  },
};
