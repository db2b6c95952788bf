import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import type { Device } from '../../spec/backend.js';
import type { Dtype, GraphName, Manifest } from '../../spec/manifest.js';

/** Preference per device when the caller asks for `auto` (first available wins). */
// q8 comes last everywhere: its 8-bit activations cost accuracy (docs/fidelity.md), so it runs only
// when asked for by name (a per-graph map picks it for the MAR and head graphs), or when a graph has
// nothing else.
const AUTO_ORDER: Record<Device, readonly Dtype[]> = {
  // MatMulNBits is faster than fp32 on the CPU EP; fp16 kernels are slow there.
  cpu: ['q4', 'fp32', 'fp16', 'q4f16', 'q8'],
  // wasm has no fast 4-bit kernel (runtime-notes): fp32 first, q4 only to save download size.
  wasm: ['fp32', 'q4', 'fp16', 'q4f16', 'q8'],
  webgpu: ['q4f16', 'q4', 'fp16', 'fp32', 'q8'],
  cuda: ['fp16', 'q4f16', 'q4', 'fp32', 'q8'],
};

export type DtypeRequest = Dtype | 'auto' | Partial<Record<GraphName, Dtype>>;

export interface DtypeChoice {
  readonly byGraph: Partial<Record<GraphName, Dtype>>;
  readonly warnings: string[];
}

/**
 * Choose a dtype for each graph. An explicit dtype (for all graphs, or per graph in a map) must be
 * in the folder: a request that cannot be met is an `InvalidOptionsError` naming what the folder
 * has, never a silent substitute. `auto` follows the device's chain among the folder's dtypes,
 * skipping half-precision variants on a device without fp16; when only those exist it uses them
 * and says so in one warning.
 */
export function chooseDtypes(manifest: Manifest, device: Device, fp16: boolean, request: DtypeRequest = 'auto'): DtypeChoice {
  const byGraph: Partial<Record<GraphName, Dtype>> = {};
  const warnings: string[] = [];
  const missing: { graph: GraphName; wanted: Dtype; available: Dtype[] }[] = [];
  const slowHalf: GraphName[] = [];
  const onlyHalf: GraphName[] = [];
  for (const [name, variants] of Object.entries(manifest.graphs) as [GraphName, Manifest['graphs'][GraphName]][]) {
    if (!variants) continue;
    const available = Object.keys(variants) as Dtype[];
    const wanted = typeof request === 'string' ? request : (request[name] ?? 'auto');
    const isHalf = (d: Dtype) => d === 'fp16' || d === 'q4f16';
    if (wanted !== 'auto') {
      if (!available.includes(wanted)) missing.push({ graph: name, wanted, available });
      // An explicit half-precision request is honoured on a device without fast fp16 (ONNX Runtime
      // still runs it, slower); only `auto` avoids it there.
      else if (!fp16 && isHalf(wanted)) slowHalf.push(name);
      byGraph[name] = wanted;
      continue;
    }
    const usablePick = AUTO_ORDER[device].find((d) => available.includes(d) && (fp16 || !isHalf(d)));
    if (!usablePick) onlyHalf.push(name);
    byGraph[name] = usablePick ?? (available[0] as Dtype);
  }
  if (missing.length > 0) {
    const wanted = [...new Set(missing.map((m) => m.wanted))].join(', ');
    const has = [...new Set(missing.flatMap((m) => m.available))].join(', ');
    const graphs = missing.map((m) => m.graph).join(', ');
    throw new InvalidOptionsError(
      `dtype ${wanted} is not in this model (${graphs} ${missing.length === 1 ? 'has' : 'have'} ${has}): pass one of those, or 'auto', or convert again with --dtype ${wanted}`,
      { details: { issues: missing.map((m) => ({ path: `dtype.${m.graph}`, message: `${m.wanted} is not in this model; it has ${m.available.join(', ')}` })) } },
    );
  }
  if (onlyHalf.length > 0) {
    warnings.push(`${device} has no fp16 support, but this model has only half-precision graphs for ${onlyHalf.join(', ')}: they run, slowly`);
  }
  if (slowHalf.length > 0) warnings.push(`${device} reports no fast fp16 support; the half-precision graphs you asked for will run, but slowly`);
  return { byGraph, warnings };
}
