import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DRIVER_VARIABLES = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'];

/**
 * Device nodes through which a Linux process reaches a GPU: DRM render nodes (AMD, Intel, Nouveau,
 * and NVIDIA's DRM module), NVIDIA's own nodes, WSL's /dev/dxg. Without any of them only a software
 * Vulkan driver (Mesa's lavapipe) can answer, which Dawn refuses after printing its complaints.
 */
export function gpuDeviceNodes(): string[] {
  const nodes: string[] = [];
  if (existsSync('/dev/dri'))
    nodes.push(
      ...readdirSync('/dev/dri')
        .filter((name) => name.startsWith('renderD'))
        .map((name) => `/dev/dri/${name}`),
    );
  for (const path of ['/dev/nvidiactl', '/dev/nvidia0', '/dev/dxg']) if (existsSync(path)) nodes.push(path);
  return nodes;
}

/**
 * On Linux, Dawn (onnxruntime-node's WebGPU) needs a Vulkan driver and a GPU behind it. Probing it
 * without them costs a Dawn start-up and prints to the process's stderr on every load ("Found no
 * drivers!", "XDG_RUNTIME_DIR is invalid", "Vulkan shaderUniform*ArrayDynamicIndexing required"),
 * where no option of ours can silence it; so `auto` skips it. Returns why WebGPU cannot work here,
 * or undefined when it may. A driver named in VK_ICD_FILENAMES & co. (e.g. SwiftShader) is trusted.
 */
export function missingVulkanDriver(
  environment: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
  deviceNodes: () => string[] = gpuDeviceNodes,
): string | undefined {
  if (platform !== 'linux') return undefined;
  if (DRIVER_VARIABLES.some((name) => environment[name])) return undefined;
  const dataDirs = (environment.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const folders = ['/etc/vulkan/icd.d', ...dataDirs.map((dir) => join(dir, 'vulkan', 'icd.d'))];
  if (environment.XDG_DATA_HOME) folders.push(join(environment.XDG_DATA_HOME, 'vulkan', 'icd.d'));
  const hasDriver = folders.some((folder) => existsSync(folder) && readdirSync(folder).some((file) => file.endsWith('.json')));
  if (!hasDriver) return 'no Vulkan driver is installed (WebGPU needs one on Linux; set VK_ICD_FILENAMES to use one)';
  if (deviceNodes().length === 0) return 'no GPU device (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg): only a software Vulkan driver could run, which WebGPU refuses';
  return undefined;
}
