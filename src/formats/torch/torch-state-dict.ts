import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { describePickleValue, PickleDict, PickleList, PickleTuple, type PickleValue } from '../pickle/pickle-values.js';
import { TorchTensorRecord } from './torch-pickle-policy.js';

export interface CollectedTorchTensors {
  /** Tensors by flattened name, in pickle order. */
  readonly tensors: ReadonlyMap<string, TorchTensorRecord>;
  /** Flattened names of the non-tensor leaves that were left out (epoch numbers, learning rates...). */
  readonly skipped: readonly string[];
}

type Container = PickleDict | PickleList | PickleTuple;

function isContainer(value: PickleValue): value is Container {
  return value instanceof PickleDict || value instanceof PickleList || value instanceof PickleTuple;
}

function children(container: Container): Array<[string, PickleValue]> {
  if (container instanceof PickleDict) return [...container.entries].map(([key, value]) => [String(key), value]);
  return container.items.map((value, index) => [String(index), value]);
}

/**
 * Walks the unpickled object down `select` (e.g. `['model']` for `kl16.ckpt`), then flattens
 * what is there into dotted names: a plain state dict keeps its keys, `{"a": {"b": t}}` becomes
 * `a.b`, lists use their index. Tensors are kept, other scalars are listed as skipped. A
 * container met twice (shared or cyclic) is refused: no state dict has one, and following it
 * could repeat work without bound.
 */
export function collectTorchTensors(root: PickleValue, select: readonly string[] = []): CollectedTorchTensors {
  let node = root;
  for (const [depth, key] of select.entries()) {
    const where =
      select
        .slice(0, depth)
        .map((part) => `["${part}"]`)
        .join('') || 'the checkpoint';
    if (!(node instanceof PickleDict)) {
      throw new InvalidModelError(`${where} is a ${describePickleValue(node)}, not a dict with the key "${key}"`);
    }
    if (!node.entries.has(key)) {
      const keys = [...node.entries.keys()].slice(0, 20).map(String).join(', ');
      throw new InvalidModelError(`${where} has no key "${key}" (it has: ${keys})`);
    }
    node = node.entries.get(key) as PickleValue;
  }
  const tensors = new Map<string, TorchTensorRecord>();
  const skipped: string[] = [];
  const visited = new Set<Container>();
  // Depth-first with an explicit stack: a hostile pickle can nest far deeper than the JS call stack.
  const pending: Array<[string, PickleValue]> = [['', node]];
  while (pending.length > 0) {
    const [name, value] = pending.pop() as [string, PickleValue];
    if (value instanceof TorchTensorRecord) {
      if (name === '') throw new InvalidModelError('the checkpoint is a single tensor, not a state dict');
      if (tensors.has(name)) throw new InvalidModelError(`two tensors flatten to the same name "${name}"`);
      tensors.set(name, value);
    } else if (isContainer(value)) {
      if (visited.has(value)) throw new InvalidModelError(`the ${describePickleValue(value)} at "${name}" appears twice in the checkpoint`);
      visited.add(value);
      const entries = children(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        pending.push([name === '' ? key : `${name}.${key}`, child]);
      }
    } else {
      skipped.push(name);
    }
  }
  return { tensors, skipped };
}
