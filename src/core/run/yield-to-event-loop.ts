/**
 * Resolve after the event loop has had a turn (other tasks, incoming messages) — without the
 * 4 ms clamp nested `setTimeout`s get, which over thousands of ORT runs would add seconds.
 * Not `scheduler.yield()`: its continuation is queued ahead of same-priority tasks, so a page's
 * messages would still wait.
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
 * Yields at most every `sliceMs`. onnxruntime-web's wasm `run` settles through promise jobs
 * only, so without this a whole generation is one long task: a page cannot repaint or take a
 * Cancel click, and a worker never reads the page's abort message until the call is over.
 */
export function createYielder(sliceMs = 8): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < sliceMs) return;
    await yieldToEventLoop();
    last = Date.now();
  };
}
