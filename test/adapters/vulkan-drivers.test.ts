import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingVulkanDriver } from '../../adapters/node-ort/vulkan-drivers.js';

describe('missingVulkanDriver', () => {
  const folders: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'unipic-vk-'));
    folders.push(dir);
    return dir;
  };
  const empty = folder();
  afterAll(() => {
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it('reports a Linux machine whose driver folders hold no ICD file', () => {
    expect(missingVulkanDriver({ XDG_DATA_DIRS: empty }, 'linux')).toMatch(/no Vulkan driver/);
  });

  it('finds an ICD file in a data dir', () => {
    const withDriver = folder();
    mkdirSync(join(withDriver, 'vulkan', 'icd.d'), { recursive: true });
    writeFileSync(join(withDriver, 'vulkan', 'icd.d', 'lvp_icd.x86_64.json'), '{}');
    expect(missingVulkanDriver({ XDG_DATA_DIRS: `${empty}:${withDriver}` }, 'linux', () => ['/dev/dri/renderD128'])).toBeUndefined();
  });

  it('skips the probe when drivers exist but no GPU device does (Mesa installed, no GPU: Dawn would only print errors)', () => {
    const withDriver = folder();
    mkdirSync(join(withDriver, 'vulkan', 'icd.d'), { recursive: true });
    writeFileSync(join(withDriver, 'vulkan', 'icd.d', 'lvp_icd.x86_64.json'), '{}');
    expect(missingVulkanDriver({ XDG_DATA_DIRS: withDriver }, 'linux', () => [])).toMatch(/^no GPU device/);
  });

  it('trusts an explicit driver variable, and never blocks other platforms', () => {
    expect(missingVulkanDriver({ XDG_DATA_DIRS: empty, VK_ICD_FILENAMES: '/x/icd.json' }, 'linux')).toBeUndefined();
    expect(missingVulkanDriver({ XDG_DATA_DIRS: empty }, 'darwin')).toBeUndefined();
    expect(missingVulkanDriver({ XDG_DATA_DIRS: empty }, 'win32')).toBeUndefined();
  });
});
