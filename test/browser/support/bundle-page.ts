import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BUILT_BROWSER_ENTRY = `${REPOSITORY_ROOT}dist/browser/index.js`;
export const BUILT_WORKER_ENTRY = `${REPOSITORY_ROOT}dist/browser/worker.js`;
/** onnxruntime-web's runtime files (`.wasm`, `.mjs`); pages point `wasmPaths` here. */
export const ORT_WEB_DIST = `${REPOSITORY_ROOT}node_modules/onnxruntime-web/dist/`;

/**
 * Bundle a test page script the way an application's bundler would: `unipic` and `unipic/worker`
 * resolve to the BUILT package (dist/browser), every dependency is bundled with the `browser`
 * condition, and onnxruntime-web's own `.wasm` files are left to `wasmPaths`.
 */
export async function bundlePage(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['browser'],
    plugins: [
      {
        name: 'built-unipic',
        setup(builder) {
          builder.onResolve({ filter: /^unipic(\/worker)?$/ }, (args) => {
            const path = args.path === 'unipic' ? BUILT_BROWSER_ENTRY : BUILT_WORKER_ENTRY;
            if (existsSync(path)) return { path };
            return { errors: [{ text: `${path} is missing: the browser tests load the built package; run \`npm run build\` first` }] };
          });
        },
      },
    ],
    sourcemap: 'inline',
    logLevel: 'silent',
    // Some dependencies mention node: modules behind runtime checks; the browser never takes those paths.
    external: ['node:*'],
  });
  return result.outputFiles[0].text;
}

/** A bare page that loads one module script, with the page's modules served beside it. */
export function pageHtml(scriptPath: string, body = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>unipic test</title></head><body>${body}<script type="module" src="${scriptPath}"></script></body></html>`;
}
