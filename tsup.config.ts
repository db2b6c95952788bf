import { defineConfig } from 'tsup';

// One build per platform: the browser bundle must never see onnxruntime-node or node: modules.
const external = ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-web/webgpu'];

export default defineConfig([
  {
    entry: {
      index: 'src/index.node.ts',
      convert: 'src/convert/index.ts',
      test: 'src/testing/index.ts',
      // Started by path from the chunk that streams Hub downloads (src/node/hf-cache/streaming-download.ts).
      'download-worker': 'src/node/hf-cache/download-worker.ts',
    },
    outDir: 'dist/node',
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    external,
  },
  {
    entry: { cli: 'src/cli/main.ts', 'download-worker': 'src/node/hf-cache/download-worker.ts' },
    outDir: 'dist/cli',
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: true,
    clean: true,
    external,
  },
  {
    entry: { index: 'src/index.browser.ts', worker: 'src/worker/worker-entry.ts' },
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    external,
  },
]);
