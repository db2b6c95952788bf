#!/usr/bin/env node
// `npm test` runs this first (pretest). The browser tests drive Debian's Chromium (never a
// downloaded browser); libvulkan1 lets Chromium reach SwiftShader for the WebGPU tests. Missing
// ones are installed when that is possible without asking (root on Debian/Ubuntu with apt-get);
// otherwise one line says what to install. UNIPIC_CHROMIUM names another Chromium binary.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.UNIPIC_CHROMIUM ?? '/usr/bin/chromium';

function hasVulkanLoader() {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1');
  } catch {
    return ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some((path) => existsSync(path));
  }
}

// Mesa >= 25 lavapipe gives onnxruntime-node's WebGPU EP a shader-f16 device, so the fp16/q4f16
// WebGPU tests (test/parity/webgpu-f16.test.ts) run instead of skipping. Its own script
// (docs/devices.md) is idempotent and returns at once when lavapipe is already there; it needs
// root and apt on Debian 12, and elsewhere those tests skip with the reason shown.
if (process.platform === 'linux' && existsSync('/etc/debian_version')) {
  const lavapipe = spawnSync('bash', [new URL('./ci/install-lavapipe.sh', import.meta.url).pathname], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (lavapipe.status !== 0)
    process.stderr.write(
      `npm test: Mesa 25 lavapipe not installed, so the f16 WebGPU tests will be skipped (${(lavapipe.stderr ?? '').trim().split('\n').at(-1)})\n`,
    );
}

const missing = [];
if (!existsSync(chromium)) missing.push('chromium');
if (process.platform === 'linux' && !hasVulkanLoader()) missing.push('libvulkan1');
if (missing.length === 0) process.exit(0);

const canInstall =
  process.platform === 'linux' && process.getuid?.() === 0 && !process.env.UNIPIC_CHROMIUM && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (canInstall) {
  process.stderr.write(`npm test: installing ${missing.join(' and ')} from Debian for the browser tests (apt-get, once)…\n`);
  const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env: environment });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env: environment });
  if (install && install.status === 0 && existsSync(chromium)) process.exit(0);
  process.stderr.write(`npm test: apt-get could not install ${missing.join(' and ')}; install them yourself and run npm test again\n`);
  process.exit(1);
}
if (!missing.includes('chromium')) {
  // Without the Vulkan loader only the WebGPU tests are affected: they are reported as skipped with the reason.
  process.stderr.write('npm test: libvulkan1 is not installed, so the WebGPU browser tests will be skipped (sudo apt-get install libvulkan1)\n');
  process.exit(0);
}
process.stderr.write(
  `npm test needs Chromium for its browser tests: install it (Debian/Ubuntu: sudo apt-get install chromium libvulkan1) or set UNIPIC_CHROMIUM to a Chromium binary, then run npm test again\n`,
);
process.exit(1);
