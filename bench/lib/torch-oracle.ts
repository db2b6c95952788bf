import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { IterationTimings } from './mar-iteration-ours.js';

/**
 * The PyTorch oracle (bench/python/mar_iteration.py) kept alive beside the benchmark, one MAR
 * iteration per `run()`, so its runs can alternate with ours under the same machine load.
 */
export class TorchOracle {
  private readonly pending: ((line: string) => void)[] = [];
  private readonly errors: string[] = [];
  private exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: Interface,
    readonly version: string,
    readonly threads: number,
  ) {
    this.exited = new Promise((resolve) => child.on('exit', resolve));
  }

  static async start(python: string, script: string, work: string): Promise<TorchOracle> {
    const child = spawn(python, [script, work], { stdio: ['pipe', 'pipe', 'pipe'] });
    const errors: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the PyTorch oracle exited (${code}): ${errors.join('').trim().split('\n').slice(-3).join(' ')}`)));
    });
    if (!ready.startsWith('ready ')) throw new Error(`the PyTorch oracle said: ${ready}`);
    const info = JSON.parse(ready.slice(6)) as { torch: string; threads: number };
    const oracle = new TorchOracle(child, lines, info.torch, info.threads);
    oracle.errors.push(...errors);
    child.stderr.on('data', (chunk: Buffer) => oracle.errors.push(chunk.toString()));
    lines.on('line', (line) => oracle.pending.shift()?.(line));
    return oracle;
  }

  async run(): Promise<IterationTimings> {
    const line = await new Promise<string>((resolve, reject) => {
      this.pending.push(resolve);
      this.child.stdin.write('run\n');
      this.exited.then((code) => reject(new Error(`the PyTorch oracle exited (${code}): ${this.errors.join('').trim().split('\n').slice(-3).join(' ')}`)));
    });
    if (!line.startsWith('timings ')) throw new Error(`the PyTorch oracle said: ${line}`);
    return JSON.parse(line.slice(8)) as IterationTimings;
  }

  /** Ends the process; it writes its last outputs (torch-z.f32, torch-tokens.f32) first. */
  async close(): Promise<void> {
    this.child.stdin.write('quit\n');
    this.child.stdin.end();
    await this.exited;
    this.lines.close();
  }
}
