import { probeBrowser, type ProbeOptions } from '../../../src/browser/probe-browser.js';

/** Probe in a dedicated worker: the page's probe and the worker's must agree on WebGPU. */
function probeInWorker(options: ProbeOptions) {
  const worker = new Worker('/probe-worker.js', { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      resolve(event.data);
      worker.terminate();
    };
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage(options);
  });
}

Object.assign(globalThis, { probeBrowser, probeInWorker, pageReady: true });
