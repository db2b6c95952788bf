/**
 * The values the restricted unpickler builds. Python objects beyond these only come from
 * globals the caller explicitly allows, and then only as inert records (nothing is executed).
 */

/** Dict keys are limited to hashable scalars; a state dict only uses strings (optimizer states use ints). */
export type PickleKey = string | number | bigint | boolean | null;

export type PickleValue = null | boolean | number | bigint | string | Uint8Array | PickleList | PickleTuple | PickleDict | PickleObject;

export class PickleList {
  readonly items: PickleValue[] = [];
}

export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

export class PickleDict {
  readonly entries = new Map<PickleKey, PickleValue>();
  /** Set by BUILD: e.g. the `_metadata` attribute PyTorch attaches to a state dict. */
  state: PickleValue | undefined;
}

/**
 * Anything an allowed global produces: a callable (REDUCE calls `call`), a class marker such as
 * a storage type, or the inert record a call returns. Subclasses live with the policy that
 * allows them (see `torch-pickle-policy.ts`).
 */
export abstract class PickleObject {
  /** `module.name` of the global, or a description of the record, for error messages. */
  abstract readonly description: string;
  // `declare` so that the base class defines no own fields that would shadow subclass members.
  /** REDUCE: callables provide this; everything else refuses to be called. */
  declare readonly call?: (args: readonly PickleValue[]) => PickleValue;
  /** BUILD: objects that accept state provide this. */
  declare readonly setState?: (state: PickleValue) => void;
}

export function describePickleValue(value: PickleValue): string {
  if (value === null) return 'None';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof PickleList) return 'list';
  if (value instanceof PickleTuple) return 'tuple';
  if (value instanceof PickleDict) return 'dict';
  return value.description;
}
