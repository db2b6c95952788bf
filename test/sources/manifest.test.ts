import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/core/sources/parse-manifest.js';
import { selectFiles } from '../../src/core/sources/select-files.js';
import { InvalidModelError, InvalidOptionsError } from '../../src/errors/index.js';
import { openNodeModel } from '../../src/node/open-node-model.js';
import { makeSyntheticModel, writeModelFolder } from './support/synthetic-model.js';
import { serveModel } from './support/test-server.js';

const model = makeSyntheticModel({ largeBytes: 10, smallBytes: 10 });
const withManifest = (change: (manifest: Record<string, any>) => void) => {
  const copy = JSON.parse(model.manifestText);
  change(copy);
  return JSON.stringify(copy);
};

describe('manifest validation', () => {
  it('accepts the synthetic manifest', () => {
    expect(parseManifest(model.manifestText, 'test').name).toBe('synthetic');
  });

  it.each([['../escape.bin'], ['/etc/passwd'], ['graphs/../../escape.bin'], ['C:/windows/escape.bin'], ['graphs\\..\\escape.bin'], ['./here.bin']])(
    'refuses the escaping file path %s with issues',
    (path) => {
      const text = withManifest((manifest) => manifest.files.push({ path, size: 1, sha256: '0'.repeat(64) }));
      const failure = (() => {
        try {
          parseManifest(text, 'test');
        } catch (error) {
          return error;
        }
      })();
      expect(failure).toBeInstanceOf(InvalidModelError);
      expect((failure as InvalidModelError).details).toMatchObject({
        issues: [expect.objectContaining({ path: expect.stringMatching(/^files\.\d+\.path$/) })],
      });
    },
  );

  it('names an unknown version instead of listing field errors', () => {
    const text = withManifest((manifest) => {
      manifest.version = 2;
      manifest.newField = true;
    });
    expect(() => parseManifest(text, 'test')).toThrow(/version 2 is not supported .*upgrade unipic/);
  });

  it('refuses non-JSON and non-unipic documents', () => {
    expect(() => parseManifest('{nope', 'test')).toThrow(InvalidModelError);
    expect(() => parseManifest('{"format":"onnx"}', 'test')).toThrow(/not a unipic manifest/);
  });

  it('refuses a graph file that is not listed in files, and duplicate entries', () => {
    const unlisted = withManifest((manifest) => {
      manifest.files = manifest.files.filter((file: { path: string }) => file.path !== 'graphs/llm.fp32.onnx');
    });
    expect(() => parseManifest(unlisted, 'test')).toThrow(/graphs\/llm\.fp32\.onnx is not listed/);
    const duplicated = withManifest((manifest) => manifest.files.push(manifest.files[0]));
    expect(() => parseManifest(duplicated, 'test')).toThrow(/listed twice/);
  });
});

describe('file selection', () => {
  const manifest = parseManifest(model.manifestText, 'test');

  it('takes exactly the graphs, tokenizer, tables and constants a capability needs', () => {
    const files = selectFiles(manifest, { capabilities: ['understand'], dtype: 'fp32', sizes: [256] });
    expect(files.sort()).toEqual(
      [
        'tokenizer.json',
        'tokenizer_config.json',
        'tables-256.safetensors',
        ...['embed', 'llm', 'lm_head', 'mar_encoder', 'vae_encoder'].flatMap((name) => [`graphs/${name}.fp32.onnx`, `graphs/${name}.fp32.onnx.data`]),
      ].sort(),
    );
    const generate = selectFiles(manifest, { capabilities: ['generate'], dtype: 'fp32' });
    expect(generate).toContain('mar-constants.safetensors');
    expect(generate).toContain('tables-512.safetensors');
    expect(generate).not.toContain('graphs/lm_head.fp32.onnx');
  });

  it('refuses a dtype or size the model does not offer', () => {
    expect(() => selectFiles(manifest, { capabilities: ['generate'], dtype: 'q4' })).toThrow(InvalidOptionsError);
    expect(() => selectFiles(manifest, { capabilities: ['generate'], dtype: 'fp32', sizes: [1024] })).toThrow(/no 1024px/);
  });
});

describe('hostile manifests through real sources', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'unipic-manifest-'));
  });
  afterEach(async () => rm(directory, { recursive: true, force: true }));

  it('an HTTP model whose manifest escapes the folder is refused before any file request', async () => {
    const hostile = withManifest((manifest) => manifest.files.push({ path: '../../outside', size: 1, sha256: 'a'.repeat(64) }));
    const { server, baseUrl } = await serveModel(model.files, hostile);
    try {
      await expect(openNodeModel(baseUrl, { cacheDir: directory })).rejects.toBeInstanceOf(InvalidModelError);
      expect(server.requests.map((request) => request.path)).toEqual(['/model/unipic.json']);
    } finally {
      await server.close();
    }
  });

  it('a local folder whose manifest escapes the folder is refused', async () => {
    const hostile = withManifest((manifest) => {
      manifest.tokenizer.json = '../tokenizer.json';
    });
    await writeModelFolder(model, join(directory, 'model'), hostile);
    await expect(openNodeModel(join(directory, 'model'))).rejects.toBeInstanceOf(InvalidModelError);
  });

  it('a manifest using a name the cache reserves is refused', async () => {
    const reserved = withManifest((manifest) => {
      manifest.files.push({ path: '.unipic/evil', size: 1, sha256: 'a'.repeat(64) });
    });
    const { server, baseUrl } = await serveModel(model.files, reserved);
    try {
      const opened = await openNodeModel(baseUrl, { cacheDir: directory });
      await expect(opened.resolve(['.unipic/evil'])).rejects.toThrow(/reserves/);
    } finally {
      await server.close();
    }
  });
});
