import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZipArchive } from '../../../src/convert/readers/zip-archive.js';
import { InvalidModelError } from '../../../src/errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../../src/errors/model-not-found-error.js';
import { patternBytes, temporaryFolder, writeZip } from './support/checkpoint-test-helpers.js';

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

describe('ZipArchive', () => {
  it('lists entries and reads byte ranges of stored entries straight from the file', async () => {
    const path = join(folder.path, 'a.zip');
    const data = patternBytes(5000, 1);
    await writeZip(path, [
      ['archive/data.pkl', 'pickle'],
      ['archive/data/0', data],
    ]);
    const archive = await ZipArchive.open(path);
    try {
      expect([...archive.entries.keys()]).toEqual(['archive/data.pkl', 'archive/data/0']);
      const range = await archive.dataRange('archive/data/0');
      // The range is the entry's bytes in the file itself: check against the raw file.
      const raw = new Uint8Array(await readFile(path));
      expect(Buffer.from(raw.subarray(range.offset, range.offset + range.length)).equals(Buffer.from(data))).toBe(true);
      expect(Buffer.from(await archive.readRange('archive/data/0', 1234, 100)).equals(Buffer.from(data.subarray(1234, 1334)))).toBe(true);
      expect(new TextDecoder().decode(await archive.readEntry('archive/data.pkl'))).toBe('pickle');
      await expect(archive.readRange('archive/data/0', 4990, 11)).rejects.toThrow(/outside entry/);
      await expect(archive.readEntry('archive/data/0', 100)).rejects.toThrow(/more than the 100 allowed/);
      await expect(archive.readEntry('archive/absent')).rejects.toThrow(/no entry/);
    } finally {
      await archive.close();
    }
  });

  it('refuses to range-read compressed entries', async () => {
    const path = join(folder.path, 'deflate.zip');
    await writeZip(path, [['archive/data/0', new Uint8Array(1000)]], { compress: ['archive/data/0'] });
    const archive = await ZipArchive.open(path);
    await expect(archive.readRange('archive/data/0', 0, 10)).rejects.toThrow(/compressed \(method 8\)/);
    await archive.close();
  });

  it('detects a corrupt local header', async () => {
    const path = join(folder.path, 'local.zip');
    await writeZip(path, [['archive/data/0', new Uint8Array(16)]]);
    const raw = new Uint8Array(await readFile(path));
    raw[30] = 'X'.charCodeAt(0); // first byte of the local header's file name
    await writeFile(path, raw);
    let archive = await ZipArchive.open(path);
    await expect(archive.readEntry('archive/data/0')).rejects.toThrow(/different name in its local header/);
    await archive.close();
    raw[0] = 0; // local header signature
    await writeFile(path, raw);
    archive = await ZipArchive.open(path);
    await expect(archive.readEntry('archive/data/0')).rejects.toThrow(/no local file header/);
    await archive.close();
  });

  it('refuses truncated and non-zip files with InvalidModelError, missing ones with ModelNotFoundError', async () => {
    const path = join(folder.path, 'cut.zip');
    await writeZip(path, [['archive/data/0', patternBytes(300, 2)]]);
    const raw = new Uint8Array(await readFile(path));
    for (const length of [0, 10, 200, raw.length - 30, raw.length - 1]) {
      await writeFile(path, raw.subarray(0, length));
      await expect(ZipArchive.open(path), `length ${length}`).rejects.toThrow(InvalidModelError);
    }
    await expect(ZipArchive.open(join(folder.path, 'absent.zip'))).rejects.toThrow(ModelNotFoundError);
  });

  it('reports entries that run past a cut in the middle of the file', async () => {
    // Keep the central directory but drop bytes of the data: offsets now point past the end.
    const path = join(folder.path, 'middle.zip');
    await writeZip(path, [
      ['archive/data/0', patternBytes(400, 3)],
      ['archive/data/1', patternBytes(400, 4)],
    ]);
    const raw = new Uint8Array(await readFile(path));
    const shortened = new Uint8Array([...raw.subarray(0, 100), ...raw.subarray(500)]);
    await writeFile(path, shortened);
    try {
      const archive = await ZipArchive.open(path);
      const results = await Promise.allSettled([archive.readEntry('archive/data/0'), archive.readEntry('archive/data/1')]);
      await archive.close();
      expect(results.some((result) => result.status === 'rejected' && result.reason instanceof InvalidModelError)).toBe(true);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidModelError);
    }
  });
});
