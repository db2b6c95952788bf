import type { Device } from '../../spec/backend.js';
import type { Dtype, GraphName, Manifest } from '../../spec/manifest.js';

/** Preference per device when the caller asks for `auto` (first available wins). */
const AUTO_ORDER: Record<Device, readonly Dtype[]> = {
  // MatMulNBits is faster than fp32 on the CPU EP; fp16 kernels are slow there.
  cpu: ['q4', 'fp32', 'fp16', 'q4f16'],
  // wasm has no fast 4-bit kernel (runtime-notes): fp32 first, q4 only to save download size.
  wasm: ['fp32', 'q4', 'fp16', 'q4f16'],
  webgpu: ['q4f16', 'q4', 'fp16', 'fp32'],
  cuda: ['fp16', 'q4f16', 'q4', 'fp32'],
};

export type DtypeRequest = Dtype | 'auto' | Partial<Record<GraphName, Dtype>>;

export interface DtypeChoice {
  readonly byGraph: Partial<Record<GraphName, Dtype>>;
  readonly warnings: string[];
}

/**
 * Choose a dtype for each graph: the requested one when the folder has it, else the device's
 * fallback chain (q4f16 → q4 → fp32 on WebGPU); `auto` skips fp16 variants when the device lacks fp16.
 */
export function chooseDtypes(manifest: Manifest, device: Device, fp16: boolean, request: DtypeRequest = 'auto'): DtypeChoice {
  const byGraph: Partial<Record<GraphName, Dtype>> = {};
  const warnings: string[] = [];
  const fp16Forced = new Set<Device>();
  for (const [name, variants] of Object.entries(manifest.graphs) as [GraphName, Manifest['graphs'][GraphName]][]) {
    if (!variants) continue;
    const available = Object.keys(variants) as Dtype[];
    const wanted = typeof request === 'string' ? request : request[name] ?? 'auto';
    const usable = (d: Dtype) => available.includes(d) && (fp16 || (d !== 'fp16' && d !== 'q4f16'));
    if (wanted !== 'auto' && usable(wanted)) {
      byGraph[name] = wanted;
      continue;
    }
    // An explicit half-precision request is honoured on a device without fast fp16 (ONNX Runtime
    // still runs it, slower); only `auto` avoids it there.
    if (wanted !== 'auto' && available.includes(wanted)) {
      byGraph[name] = wanted;
      fp16Forced.add(device);
      continue;
    }
    const chain = wanted === 'auto' ? AUTO_ORDER[device] : [wanted, ...AUTO_ORDER[device].filter((d) => d !== wanted)];
    const usablePick = chain.find(usable);
    const picked = usablePick ?? available[0];
    if (!usablePick) warnings.push(`graph ${name}: ${device} has no fp16 support and this model only has ${available.join(', ')}; trying ${picked}`);
    else if (wanted !== 'auto') warnings.push(`graph ${name}: dtype ${wanted} is not available on ${device} in this model; using ${picked}`);
    byGraph[name] = picked;
  }
  for (const forced of fp16Forced) warnings.push(`${forced} reports no fast fp16 support; half-precision graphs will run, but slowly`);
  return { byGraph, warnings };
}
