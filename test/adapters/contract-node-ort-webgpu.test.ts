import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { describeBackendContract } from './support/contract.js';

// onnxruntime-node's WebGPU EP (Dawn) needs a Vulkan adapter. On machines without a GPU the
// SwiftShader ICD shipped by Debian's chromium package is one (see docs/devices.md); this file
// sets it for its own process only, before ORT creates its first WebGPU context.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasVulkanLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'].some((path) => existsSync(path));
const available = Boolean(process.env.VK_ICD_FILENAMES) || (existsSync(SWIFTSHADER_ICD) && hasVulkanLoader);
if (available && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

if (available) {
  describeBackendContract({
    label: 'node-ort on WebGPU (IO binding)',
    create: () => new NodeOrtBackend(),
    initOptions: { device: 'webgpu' },
    expectedName: 'node-ort',
    expectedDevice: 'webgpu',
    pathNeedsExternalData: false,
    keptLocation: 'device',
  });
} else {
  describe('backend contract: node-ort on WebGPU', () => {
    it.skip('needs a Vulkan loader and an ICD (libvulkan1 + chromium SwiftShader, or a GPU)', () => {});
  });
}
