import { execFile } from 'node:child_process';

/** A CUDA device's memory as `nvidia-smi` reports it, in bytes. */
export interface CudaMemory {
  readonly totalBytes: number;
  readonly freeBytes: number;
}

/** The answer of one query: the memory, or why it is unknown (one short clause for a warning). */
export type CudaMemoryAnswer = { readonly memory: CudaMemory } | { readonly unknown: string };

export interface CudaMemoryQueryOptions {
  /** The `nvidia-smi` executable (default: `nvidia-smi` on the PATH). */
  readonly command?: string;
  /** Give up after this long (default 5 s): a wedged driver can leave nvidia-smi hanging. */
  readonly timeoutMs?: number;
}

const MIB = 1024 * 1024;

/**
 * Total and free memory of CUDA device `deviceId`, asked of `nvidia-smi` once. ORT's Node binding
 * exposes no device query, and the driver's own tool is what every NVIDIA machine has; without it
 * (or when it fails, hangs or prints something unexpected) the memory is unknown, never an error.
 */
export function queryCudaMemory(deviceId: number, options: CudaMemoryQueryOptions = {}): Promise<CudaMemoryAnswer> {
  const command = options.command ?? 'nvidia-smi';
  const args = ['--query-gpu=memory.total,memory.free', '--format=csv,noheader,nounits', '-i', String(deviceId)];
  return new Promise((resolve) => {
    execFile(command, args, { timeout: options.timeoutMs ?? 5000, windowsHide: true }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'nvidia-smi not found' : error.killed ? 'nvidia-smi timed out' : `nvidia-smi failed (${firstLine(error.message)})`;
        resolve({ unknown: why });
        return;
      }
      resolve(parseNvidiaSmiMemory(stdout));
    });
  });
}

/** Parses `memory.total, memory.free` in MiB (`--format=csv,noheader,nounits`), one GPU per line. */
export function parseNvidiaSmiMemory(stdout: string): CudaMemoryAnswer {
  const line = stdout.trim().split('\n')[0] ?? '';
  const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(line);
  if (!match) return { unknown: `nvidia-smi printed ${JSON.stringify(firstLine(line) || stdout.slice(0, 60))}, not "total, free" in MiB` };
  const totalBytes = Number(match[1]) * MIB;
  const freeBytes = Number(match[2]) * MIB;
  if (totalBytes === 0 || freeBytes > totalBytes) return { unknown: `nvidia-smi reported ${line.trim()} MiB (total, free), which cannot be right` };
  return { memory: { totalBytes, freeBytes } };
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 120);
}
