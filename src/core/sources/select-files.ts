import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import {
  CAPABILITY_GRAPHS,
  type Capability,
  type Dtype,
  type GraphName,
  type GraphVariant,
  type Manifest,
} from '../../spec/manifest.js';

export interface FileSelection {
  readonly capabilities: readonly Capability[];
  /** One dtype for every graph, or one per graph (every needed graph must be named). */
  readonly dtype: Dtype | Readonly<Partial<Record<GraphName, Dtype>>>;
  /** Output sizes whose position tables to fetch; all the manifest offers when absent. */
  readonly sizes?: readonly number[];
}

export interface SelectedGraph {
  readonly name: GraphName;
  readonly dtype: Dtype;
  readonly variant: GraphVariant;
}

/** The graphs (with their dtype variant) the capabilities need, each once. */
export function selectGraphs(manifest: Manifest, selection: FileSelection): SelectedGraph[] {
  const names = new Set<GraphName>();
  for (const capability of selection.capabilities) for (const name of CAPABILITY_GRAPHS[capability]) names.add(name);
  return [...names].map((name) => {
    const dtype = typeof selection.dtype === 'string' ? selection.dtype : selection.dtype[name];
    if (dtype === undefined) {
      throw new InvalidOptionsError(`no dtype chosen for graph ${name}`, {
        details: { issues: [{ path: `dtype.${name}`, message: 'required by the requested capabilities' }] },
      });
    }
    const variants = manifest.graphs[name] ?? {};
    const variant = variants[dtype];
    if (!variant) {
      const offered = Object.keys(variants);
      throw new InvalidOptionsError(
        `${manifest.name} has no ${dtype} variant of ${name}` +
          (offered.length ? ` (it has ${offered.join(', ')})` : ' (the graph is missing from the model)'),
        { details: { issues: [{ path: typeof selection.dtype === 'string' ? 'dtype' : `dtype.${name}`, message: `not offered for ${name}` }] } },
      );
    }
    return { name, dtype, variant };
  });
}

/**
 * Manifest paths a load of `selection` needs: the chosen graph variants with their external data,
 * the tokenizer, the position tables of the chosen sizes and, for capabilities that fill masked
 * slots (generate, edit), the MAR constants.
 */
export function selectFiles(manifest: Manifest, selection: FileSelection): string[] {
  const paths = new Set<string>([manifest.tokenizer.json, manifest.tokenizer.config]);
  for (const graph of selectGraphs(manifest, selection)) {
    paths.add(graph.variant.file);
    for (const data of graph.variant.externalData) paths.add(data);
  }
  if (selection.capabilities.some((capability) => capability !== 'understand')) paths.add(manifest.constants);
  const offered = manifest.resolutions.map((resolution) => resolution.size);
  for (const size of selection.sizes ?? offered) {
    const resolution = manifest.resolutions.find((candidate) => candidate.size === size);
    if (!resolution) {
      throw new InvalidOptionsError(`${manifest.name} has no ${size}px resolution (it has ${offered.join(', ')})`, {
        details: { issues: [{ path: 'sizes', message: `${size} is not offered` }] },
      });
    }
    paths.add(resolution.tables);
  }
  return [...paths];
}
