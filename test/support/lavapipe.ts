import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Mesa's lavapipe, the CPU Vulkan driver that makes onnxruntime-node's WebGPU EP run f16 kernels
// without a GPU. Only Mesa >= 25 works (Debian 12's 22.3 build gives Dawn no adapter); its ICD
// declares Vulkan 1.4, the 22.3 one 1.3, which is how the two are told apart without dpkg.
// tools/ci/install-lavapipe.sh installs it (npm test's pretest runs it on Debian as root);
// UNIPIC_REQUIRE_LAVAPIPE=1 makes a missing driver fail the run instead of skipping.
const ICD_FOLDERS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const MIN_API = [1, 4];

export interface LavapipeIcd {
  readonly path?: string;
  /** Why the f16 WebGPU tests cannot run here (absent when they can). */
  readonly missing?: string;
}

function apiVersion(file: string): number[] {
  try {
    const icd = JSON.parse(readFileSync(file, 'utf8')) as { ICD?: { api_version?: string } };
    return (icd.ICD?.api_version ?? '0').split('.').map(Number);
  } catch {
    return [0];
  }
}

export function findLavapipeIcd(environment: NodeJS.ProcessEnv = process.env): LavapipeIcd {
  if (process.platform !== 'linux') return { missing: 'lavapipe is a Linux driver' };
  const candidates = ICD_FOLDERS.filter((folder) => existsSync(folder)).flatMap((folder) =>
    readdirSync(folder)
      .filter((file) => /^lvp_icd(\..+)?\.json$/.test(file))
      .map((file) => join(folder, file)),
  );
  const fit = candidates.find((file) => {
    const [major = 0, minor = 0] = apiVersion(file);
    return major > MIN_API[0] || (major === MIN_API[0] && minor >= MIN_API[1]);
  });
  if (fit) return { path: fit };
  const found = candidates.length ? `only an older lavapipe (${candidates.join(', ')}: Vulkan < 1.4, Mesa < 25)` : 'no lavapipe ICD';
  const reason = `${found}; install Mesa >= 25 lavapipe with tools/ci/install-lavapipe.sh (docs/devices.md)`;
  if (environment.UNIPIC_REQUIRE_LAVAPIPE === '1') throw new Error(`UNIPIC_REQUIRE_LAVAPIPE=1 but ${reason}`);
  return { missing: reason };
}
