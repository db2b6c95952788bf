import { EventEmitter } from 'eventemitter3';
import { makeImage } from '../../../src/families/unipic1/generation/decode-images.js';
import type { UniPicEvents } from '../../../src/core/model/model-events.js';
import { Run, type RunController } from '../../../src/core/run/run.js';
import { InvalidInputError } from '../../../src/errors/invalid-input-error.js';
import { UniPicError } from '../../../src/errors/unipic-error.js';
import type { HostedModel } from '../../../src/worker/worker-host.js';
import type { UniPic1Manifest as Manifest } from '../../../src/families/unipic1/manifest.js';

type FakeEvent = { type: string; [key: string]: unknown };

/**
 * A stand-in model for protocol tests: deterministic outputs computed from the options, so the
 * page side can check that what crossed is what the model produced. Real models are covered by
 * the Chromium tests.
 */
export class FakeModel extends EventEmitter<UniPicEvents> implements HostedModel {
  readonly manifest = { config: { fake: true }, graphs: {} } as unknown as Manifest;
  readonly capabilities = ['generate', 'understand'] as const;
  readonly backendInfo = { name: 'fake', device: 'wasm', availableDevices: ['wasm'], fp16: false, limits: {} } as const;
  readonly dtypes = {};
  readonly loadWarnings = [{ code: 'dtype-fallback', message: 'fake warning' }];
  disposed = false;
  /** Pixels of the last generated image, to see them transferred (detached) after posting. */
  lastImageData: Uint8ClampedArray | undefined;
  /** Signals of the calls started, to see aborts arrive. */
  readonly callSignals: AbortSignal[] = [];
  private readonly running = new Set<Run<{ type: string }, unknown>>();

  constructor(readonly loadOptions: Record<string, unknown>) {
    super();
  }

  private start<Result>(body: (controller: RunController<FakeEvent>) => Promise<Result>, signal?: AbortSignal): Run<FakeEvent, Result> {
    const run = new Run<FakeEvent, Result>(async (controller) => {
      this.callSignals.push(controller.signal);
      this.emit('run-start', { capability: 'generate', id: this.callSignals.length });
      try {
        const result = await body(controller);
        this.emit('run-end', { capability: 'generate', id: this.callSignals.length, outcome: 'success', ms: 1 });
        return result;
      } catch (error) {
        this.emit('run-end', { capability: 'generate', id: this.callSignals.length, outcome: controller.signal.aborted ? 'aborted' : 'error', ms: 1 });
        throw error;
      }
    }, signal);
    this.running.add(run as Run<{ type: string }, unknown>);
    return run;
  }

  /**
   * `size`² images whose pixel i is (i·seed) mod 256. Prompts steer it: `slow` sleeps 20 ms a
   * step (time to abort), `fail-typed` / `fail-plain` throw an SDK error / a bare TypeError.
   */
  generate(options: { prompt: string; size?: number; seed?: number; steps?: number; signal?: AbortSignal }) {
    return this.start(async (controller) => {
      const size = options.size ?? 4;
      const seed = options.seed ?? 1;
      const steps = options.steps ?? 2;
      if (options.prompt === 'fail-typed') throw new InvalidInputError(`bad prompt: ${options.prompt}`, { details: { prompt: options.prompt } });
      if (options.prompt === 'fail-plain') throw new TypeError('something broke');
      for (let step = 0; step < steps; step++) {
        controller.emit({ type: 'step-start', iteration: step, iterations: steps });
        if (options.prompt === 'slow') await new Promise((resolve) => setTimeout(resolve, 20));
        if (controller.signal.aborted) throw controller.signal.reason;
        controller.emit({ type: 'image-preview', iteration: step, images: [{ width: 1, height: 1, data: new Uint8ClampedArray([step, 0, 0, 255]) }] });
      }
      const data = new Uint8ClampedArray(size * size * 4).map((_, i) => (i * seed) % 256);
      this.lastImageData = data;
      return { images: [makeImage(size, size, data)], seed, warnings: [] };
    }, options.signal);
  }

  understand(options: { prompt: string; signal?: AbortSignal }) {
    return this.start(async (controller) => {
      for (const word of options.prompt.split(' ')) controller.emit({ type: 'text-delta', delta: `${word.toUpperCase()} ` });
      return { text: options.prompt.toUpperCase() };
    }, options.signal);
  }

  async dispose(): Promise<void> {
    for (const run of this.running) run.abort(new UniPicError('ABORTED', 'disposed'));
    await Promise.all([...this.running].map((run) => run.result.catch(() => undefined)));
    this.disposed = true;
  }
}
