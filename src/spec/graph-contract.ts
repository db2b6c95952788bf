import type { DeviceTensor, Feed, TensorDataType } from './backend.js';

/**
 * Typed graph contracts: each graph's inputs and outputs (names, element types, symbolic shapes)
 * declared once, as data, by the family that owns the graph. The converter's builders declare the
 * ONNX inputs/outputs from the same objects, and the runtime's `graphs.run(name, feeds)` is typed
 * from them, so a renamed or missing feed is a compile error.
 *
 * A name may hold `{i}` for a per-layer family of tensors (`past_key_values.{i}.key`): its type is
 * the template literal `past_key_values.${number}.key`, and the builder substitutes the layer.
 */
export interface TensorSpec {
  readonly type: TensorDataType;
  /** Symbolic dims (`batch`, `sequence`, `past_sequence + sequence`) or fixed sizes. */
  readonly shape: readonly (number | string)[];
}

export interface GraphSpec {
  readonly inputs: Readonly<Record<string, TensorSpec>>;
  readonly outputs: Readonly<Record<string, TensorSpec>>;
}

/** A family's graphs by name. */
export type GraphContract = Readonly<Record<string, GraphSpec>>;

/** `past_key_values.{i}.key` → `past_key_values.${number}.key`. */
export type ExpandName<Name extends string> = Name extends `${infer Head}{i}${infer Tail}` ? `${Head}${number}${ExpandName<Tail>}` : Name;

type Templated<Name extends string> = Name extends `${string}{i}${string}` ? Name : never;
type Plain<Name extends string> = Name extends `${string}{i}${string}` ? never : Name;

export type InputName<Spec extends GraphSpec> = ExpandName<keyof Spec['inputs'] & string>;
export type OutputName<Spec extends GraphSpec> = ExpandName<keyof Spec['outputs'] & string>;

/**
 * The feeds of one run: every plain input, and any of the per-layer ones (the graph itself
 * refuses a missing layer; the type cannot count layers).
 */
export type GraphFeeds<Spec extends GraphSpec> = { readonly [Name in Plain<keyof Spec['inputs'] & string>]: Feed } & {
  readonly [Name in ExpandName<Templated<keyof Spec['inputs'] & string>>]?: Feed;
};

/** The outputs of one run, by name. */
export type GraphOutputs<Spec extends GraphSpec> = { [Name in Plain<keyof Spec['outputs'] & string>]: DeviceTensor } & {
  [Name in ExpandName<Templated<keyof Spec['outputs'] & string>>]: DeviceTensor;
};

/** Check a contract literal's shape while keeping its literal names (`defineGraphs({ … } as const)`). */
export function defineGraphs<const Contract extends GraphContract>(contract: Contract): Contract {
  return contract;
}

/** The concrete name of layer `layer` of a templated name (`past_key_values.{i}.key`, 3). */
export function layerName<Name extends string>(name: Name, layer: number): ExpandName<Name> {
  return name.replaceAll('{i}', String(layer)) as ExpandName<Name>;
}
