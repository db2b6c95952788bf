import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread on `url`: the built package's `.js` file as is; a `.ts` source (tests and
 * benches run the sources) through tsx, registered inside the worker, since a worker's own entry
 * does not see the loader hooks its parent was started with.
 */
export function startWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}
