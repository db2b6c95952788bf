#!/usr/bin/env node
// `npm run bench:gpu`: builds bench/gpu/dist/unipic-gpu-check/, a folder under 60 MiB that runs
// the GPU check on a machine with no network and possibly no Node (docs/performance.md):
//   run.sh            the runner (bash): unpacks, picks a Node, runs the check, prints the table
//   payload.tar.xz    node (this running binary), check.mjs (the check and the SDK, one esbuild
//                     bundle), node_modules/onnxruntime-{node,common} (linux-x64 native library,
//                     with the CUDA/TensorRT provider libraries when installed), the Qwen tokenizer,
//                     python/ (torch_baseline.py and the oracle's unipic_reference package)
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const LIMIT = 60 * 1024 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = join(here, 'dist', 'unipic-gpu-check');
const stage = join(here, 'dist', 'stage');
const require = createRequire(join(root, 'package.json'));
rmSync(join(here, 'dist'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
mkdirSync(stage, { recursive: true });

await build({
  entryPoints: [join(here, 'check.ts')],
  outfile: join(stage, 'check.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['onnxruntime-node'],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __unipicCreateRequire } from 'node:module'; const require = __unipicCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// onnxruntime-node: its JS, and the native files for linux-x64 only (the package holds every platform).
// The folder whose package.json names the package (dist/cjs may hold a {"type"} stub).
const packageRoot = (entry, name) => {
  let directory = dirname(entry);
  while (!(existsSync(join(directory, 'package.json')) && JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).name === name))
    directory = dirname(directory);
  return directory;
};
const ortRoot = packageRoot(require.resolve('onnxruntime-node'), 'onnxruntime-node');
const ortOut = join(stage, 'node_modules', 'onnxruntime-node');
for (const entry of ['package.json', 'dist']) cpSync(join(ortRoot, entry), join(ortOut, entry), { recursive: true });
const native = join('bin', 'napi-v6', 'linux', 'x64');
cpSync(join(ortRoot, native), join(ortOut, native), { recursive: true });
const commonRoot = packageRoot(createRequire(join(ortRoot, 'package.json')).resolve('onnxruntime-common'), 'onnxruntime-common');
for (const entry of ['package.json', 'dist']) cpSync(join(commonRoot, entry), join(stage, 'node_modules', 'onnxruntime-common', entry), { recursive: true });
cpSync(join(root, 'assets', 'qwen2.5-tokenizer'), join(stage, 'assets', 'qwen2.5-tokenizer'), { recursive: true });
// The PyTorch baseline: its script and the oracle's modules (Python source only).
cpSync(join(here, 'torch_baseline.py'), join(stage, 'python', 'torch_baseline.py'));
cpSync(join(root, 'tools', 'reference', 'unipic_reference'), join(stage, 'python', 'unipic_reference'), {
  recursive: true,
  filter: (source) => !source.includes('__pycache__'),
});
copyFileSync(process.execPath, join(stage, 'node'));
writeFileSync(
  join(stage, 'VERSIONS'),
  `node ${process.version}\nonnxruntime-node ${JSON.parse(readFileSync(join(ortRoot, 'package.json'), 'utf8')).version}\nproviders ${readdirSync(join(ortRoot, native)).join(' ')}\n`,
);

execFileSync('tar', ['-C', stage, '-cf', join(out, 'payload.tar'), '.']);
execFileSync('xz', ['-T0', '-6', join(out, 'payload.tar')]);
copyFileSync(join(here, 'run.sh'), join(out, 'run.sh'));
execFileSync('chmod', ['+x', join(out, 'run.sh')]);
rmSync(stage, { recursive: true, force: true });

const total = readdirSync(out).reduce((sum, file) => sum + statSync(join(out, file)).size, 0);
console.log(`${out}: ${(total / 1024 / 1024).toFixed(1)} MiB (limit 60 MiB)`);
if (total > LIMIT) {
  console.error('the GPU check folder is over 60 MiB');
  process.exit(1);
}
if (!existsSync(join(out, 'payload.tar.xz'))) process.exit(1);
