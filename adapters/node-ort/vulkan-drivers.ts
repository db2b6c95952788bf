import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DRIVER_VARIABLES = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'];

/**
 * On Linux, Dawn (onnxruntime-node's WebGPU) needs a Vulkan driver. Without one, probing it costs
 * a Dawn start-up and prints "vkCreateInstance: Found no drivers!" to stderr on every load, so
 * `auto` skips it. Returns why WebGPU cannot work here, or undefined when a driver may exist.
 */
export function missingVulkanDriver(environment: NodeJS.ProcessEnv = process.env, platform: string = process.platform): string | undefined {
  if (platform !== 'linux') return undefined;
  if (DRIVER_VARIABLES.some((name) => environment[name])) return undefined;
  const dataDirs = (environment.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const folders = ['/etc/vulkan/icd.d', ...dataDirs.map((dir) => join(dir, 'vulkan', 'icd.d'))];
  if (environment.XDG_DATA_HOME) folders.push(join(environment.XDG_DATA_HOME, 'vulkan', 'icd.d'));
  for (const folder of folders) {
    if (existsSync(folder) && readdirSync(folder).some((file) => file.endsWith('.json'))) return undefined;
  }
  return `no Vulkan driver is installed (no *.json in ${folders.join(', ')}; set VK_ICD_FILENAMES to use one), which WebGPU needs on Linux`;
}
