import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Cross-origin isolation (COOP/COEP) gives the page SharedArrayBuffer, so onnxruntime-web's wasm
// can use several threads. Your production server must send the same two headers.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// Inside the unipic repository, use its build (run `npm run build` at the root first). In your
// own app, `npm install unipic onnxruntime-web` and drop this alias.
const repositoryBuild = fileURLToPath(new URL('../../dist/browser/', import.meta.url));
const alias = existsSync(`${repositoryBuild}index.js`)
  ? [
      { find: /^unipic$/, replacement: `${repositoryBuild}index.js` },
      { find: /^unipic\/worker$/, replacement: `${repositoryBuild}worker.js` },
    ]
  : [];

export default defineConfig({
  // One onnxruntime-web in the bundle: unipic's own `import('onnxruntime-web')` resolves from this
  // app, not from wherever unipic lives (the repository root, through the alias or the `file:`
  // link). Two copies would mean two .wasm files, and ORT's JavaScript meeting the other copy's
  // WebAssembly fails at init ("LinkError: … function import requires a callable").
  // package.json pins the version the root is tested with.
  resolve: { alias, dedupe: ['onnxruntime-web'] },
  // The model runs in a module worker that loads onnxruntime-web with dynamic imports.
  worker: { format: 'es' },
  // Pre-bundling would separate onnxruntime-web from its .wasm; the app passes the URL itself.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { target: 'es2022' },
});
