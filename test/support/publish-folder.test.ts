import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishFolder } from './publish-folder.js';

describe('publishFolder (test/.artifacts caches shared by parallel workers)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'unipic-publish-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function built(name: string, content: string): string {
    const work = join(root, name);
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'unipic.json'), content);
    return work;
  }

  it('a second worker finishing the same build keeps the first folder, which readers may hold open, and drops its own', () => {
    const target = join(root, 'model');
    publishFolder(built('first.1', 'first'), target, 'unipic.json');
    publishFolder(built('second.2', 'second'), target, 'unipic.json');
    expect(readFileSync(join(target, 'unipic.json'), 'utf8')).toBe('first');
    expect(existsSync(join(root, 'second.2'))).toBe(false);
  });

  it('replaces a folder left without its marker (an older layout)', () => {
    const target = join(root, 'model');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'old-layout.bin'), 'x');
    publishFolder(built('fresh.1', 'fresh'), target, 'unipic.json');
    expect(readFileSync(join(target, 'unipic.json'), 'utf8')).toBe('fresh');
    expect(existsSync(join(target, 'old-layout.bin'))).toBe(false);
  });
});
