import type { Backend, BackendSession } from '../spec/backend.js';

/**
 * Resolve after the event loop has had a turn (other tasks, incoming messages) — without the
 * 4 ms clamp nested `setTimeout`s get, which over thousands of ORT runs would add seconds.
 * Not `scheduler.yield()`: its continuation is queued ahead of same-priority tasks, so the
 * page's messages would still wait.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A backend whose session runs give the event loop a turn at least every `sliceMs`.
 *
 * onnxruntime-web's wasm `run` settles through promise jobs only, so a whole generation is one
 * long task: a worker never reads the page's `abort` message until the run is over (measured:
 * all 64 iterations ran after an abort sent at the first). Yielding between ORT runs lets the
 * message in; the model checks its signal before the next run.
 */
export function yieldingBackend(inner: Backend, sliceMs = 8): Backend {
  let lastYield = Date.now();
  const maybeYield = async () => {
    if (Date.now() - lastYield < sliceMs) return;
    await yieldToEventLoop();
    lastYield = Date.now();
  };
  const wrap = (session: BackendSession): BackendSession => ({
    get inputNames() {
      return session.inputNames;
    },
    get outputNames() {
      return session.outputNames;
    },
    async run(feeds, options) {
      const outputs = await session.run(feeds, options);
      await maybeYield();
      return outputs;
    },
    dispose: () => session.dispose(),
  });
  return {
    specificationVersion: inner.specificationVersion,
    name: inner.name,
    init: (options) => inner.init(options),
    createSession: async (graph, options) => wrap(await inner.createSession(graph, options)),
    get liveSessions() {
      return inner.liveSessions;
    },
    dispose: () => inner.dispose(),
  };
}
