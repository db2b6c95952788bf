import type { TensorData } from '../../../src/spec/backend.js';
import { identityModel } from '../../../adapters/shared/probe-models.js';

/**
 * An instrumented stand-in for onnxruntime-node, to observe what the shared session layer does
 * with ORT: how many runs overlap, which outputs it fetches, which device tensors it releases.
 * Graph behaviour: feeds a, b → c = a + b (the probe); x → y = 2x, z = x + 1; an Identity model
 * (recognised by its bytes) copies x to y on the CPU.
 */
export interface FakeOrtLog {
  running: number;
  mostRunning: number;
  runs: Array<{ fetches: readonly string[] | undefined }>;
  released: number;
  events: string[];
  disposedTensors: FakeTensor[];
  /** Make the next run fail with this message. */
  failNextRun?: string;
  /** Make downloads fail (the Identity copy and `getData`). */
  failDownloads?: boolean;
  runDelayMs: number;
}

export class FakeTensor {
  disposed = false;
  constructor(
    readonly type: string,
    private readonly values: TensorData,
    readonly dims: readonly number[],
    readonly location: 'cpu' | 'gpu-buffer' = 'cpu',
    private readonly log?: FakeOrtLog,
  ) {}

  get data(): TensorData {
    if (this.location !== 'cpu') throw new Error('The data is not on CPU');
    return this.values;
  }

  /** The values whatever the location, for the fake's own arithmetic. */
  get raw(): TensorData {
    if (this.disposed) throw new Error('tensor used after dispose');
    return this.values;
  }

  async getData(): Promise<TensorData> {
    if (this.log?.failDownloads) throw new Error('injected download failure');
    return this.raw;
  }

  dispose(): void {
    this.disposed = true;
    this.log?.disposedTensors.push(this);
  }
}

export function createFakeOrt(runDelayMs = 5) {
  const log: FakeOrtLog = { running: 0, mostRunning: 0, runs: [], released: 0, events: [], disposedTensors: [], runDelayMs };
  const identities = new Set(['float32', 'int64'].map((type) => bytesKey(identityModel(type as 'float32'))));

  const runtime = {
    Tensor: class extends FakeTensor {
      constructor(type: string, data: TensorData, dims: readonly number[]) {
        super(type, data, dims, 'cpu');
      }
    },
    listSupportedBackends: () => [
      { name: 'cpu', bundled: true },
      { name: 'webgpu', bundled: true },
    ],
    InferenceSession: {
      create: async (model: Uint8Array | string, options: Record<string, unknown> = {}) => {
        const identity = typeof model !== 'string' && identities.has(bytesKey(model));
        const onDevice = options.preferredOutputLocation === 'gpu-buffer';
        return {
          inputNames: identity ? ['x'] : ['x'],
          outputNames: identity ? ['y'] : ['y', 'z'],
          async run(feeds: Record<string, FakeTensor>, fetches?: readonly string[]) {
            if (identity) {
              if (log.failDownloads) throw new Error('out of memory while copying to the CPU');
              return { y: new FakeTensor(feeds.x.type, feeds.x.raw, feeds.x.dims, 'cpu', log) };
            }
            log.running++;
            log.mostRunning = Math.max(log.mostRunning, log.running);
            log.events.push('run-start');
            log.runs.push({ fetches });
            try {
              await new Promise((resolve) => setTimeout(resolve, log.runDelayMs));
              if (log.failNextRun) {
                const message = log.failNextRun;
                log.failNextRun = undefined;
                throw new Error(message);
              }
              if (feeds.a) {
                const a = feeds.a.raw as Float32Array;
                const b = feeds.b.raw as Float32Array;
                return {
                  c: new FakeTensor(
                    'float32',
                    a.map((value, index) => value + b[index]),
                    [a.length],
                    'cpu',
                    log,
                  ),
                };
              }
              const x = feeds.x.raw as Float32Array;
              const location = onDevice ? 'gpu-buffer' : 'cpu';
              const all = {
                y: new FakeTensor(
                  'float32',
                  x.map((value) => value * 2),
                  feeds.x.dims,
                  location,
                  log,
                ),
                z: new FakeTensor(
                  'float32',
                  x.map((value) => value + 1),
                  feeds.x.dims,
                  location,
                  log,
                ),
              };
              const names = fetches ?? ['y', 'z'];
              return Object.fromEntries(names.map((name) => [name, all[name as 'y' | 'z']]));
            } finally {
              log.running--;
              log.events.push('run-end');
            }
          },
          async release() {
            log.released++;
            log.events.push('release');
          },
        };
      },
    },
  };
  return { runtime, log };
}

function bytesKey(bytes: Uint8Array): string {
  return Array.from(bytes).join(',');
}
