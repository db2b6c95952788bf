import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineDescription {
  readonly cpu: string;
  readonly logicalCores: number;
  readonly memoryGiB: number;
  readonly cpuFlags: string;
  readonly node: string;
  readonly onnxruntimeNode: string;
  readonly transformersJs: string;
  readonly loadAverage: string;
  readonly date: string;
}

/** What the numbers were measured on; printed at the top of every run and kept in the results. */
export function describeMachine(): MachineDescription {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  // Read from node_modules: some packages' export maps hide their package.json.
  const version = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  };
  let flags = '';
  try {
    const line =
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('flags')) ?? '';
    const wanted = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'avx_vnni'];
    flags = wanted.filter((flag) => line.split(/\s+/).includes(flag)).join(' ');
  } catch {
    flags = 'unknown';
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    logicalCores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    cpuFlags: flags,
    node: process.version,
    onnxruntimeNode: version('onnxruntime-node'),
    transformersJs: version('@huggingface/transformers'),
    loadAverage: loadavg()
      .map((v) => v.toFixed(1))
      .join(' / '),
    date: new Date().toISOString(),
  };
}
