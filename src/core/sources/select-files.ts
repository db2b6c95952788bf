import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import type { Capability, Dtype, GraphName, GraphVariant, Manifest } from '../../spec/manifest.js';
import { familyOf } from '../family/family-registry.js';

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
  const family = familyOf(manifest);
  for (const capability of selection.capabilities) for (const name of family.tasks[capability]?.graphs ?? []) names.add(name);
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
        `${manifest.name} has no ${dtype} variant of ${name}${offered.length ? ` (it has ${offered.join(', ')})` : ' (the graph is missing from the model)'}`,
        { details: { issues: [{ path: typeof selection.dtype === 'string' ? 'dtype' : `dtype.${name}`, message: `not offered for ${name}` }] } },
      );
    }
    return { name, dtype, variant };
  });
}

/**
 * Manifest paths a load of `selection` needs: the chosen graph variants with their external data,
 * and the family's own files for those tasks (UniPic-1: the tokenizer, the position tables of the
 * chosen sizes and, for tasks that fill masked slots, the MAR constants).
 */
export function selectFiles(manifest: Manifest, selection: FileSelection): string[] {
  const paths = new Set<string>();
  for (const graph of selectGraphs(manifest, selection)) {
    paths.add(graph.variant.file);
    for (const data of graph.variant.externalData) paths.add(data);
  }
  for (const path of familyOf(manifest).assetFiles(manifest, selection.capabilities, selection.sizes)) paths.add(path);
  return [...paths];
}
