import type { GraphSpec } from '../../spec/graph-contract.js';
import type { Dim, GraphBuilder } from './graph-builder.js';

/** Fixed sizes for the contract's named dims (`hidden: 1536`); other names stay symbolic. */
export type DimSizes = Readonly<Record<string, number>>;

const resolve = (shape: readonly (number | string)[], sizes: DimSizes): Dim[] => shape.map((dim) => (typeof dim === 'string' && dim in sizes ? sizes[dim] : dim));

const concrete = (name: string, layer: number | undefined) => {
  if (name.includes('{i}') !== (layer !== undefined)) throw new Error(`${name}: ${layer === undefined ? 'a layer index is needed' : 'takes no layer index'}`);
  return layer === undefined ? name : name.replaceAll('{i}', String(layer));
};

/**
 * Declare a graph input exactly as the family's contract states it (name, element type, shape);
 * `layer` fills `{i}` in per-layer names. Returns the tensor name.
 */
export function contractInput<Spec extends GraphSpec>(
  builder: GraphBuilder,
  spec: Spec,
  name: keyof Spec['inputs'] & string,
  sizes: DimSizes = {},
  layer?: number,
): string {
  const tensor = spec.inputs[name];
  return builder.input(concrete(name, layer), tensor.type, resolve(tensor.shape, sizes));
}

/** Declare `value` as the contract's output `name` (see `contractInput`). */
export function contractOutput<Spec extends GraphSpec>(
  builder: GraphBuilder,
  spec: Spec,
  value: string,
  name: keyof Spec['outputs'] & string,
  sizes: DimSizes = {},
  layer?: number,
): void {
  const tensor = spec.outputs[name];
  builder.output(value, concrete(name, layer), tensor.type, resolve(tensor.shape, sizes));
}
