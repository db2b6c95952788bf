import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { convertCheckpoint, type ConvertProgressEvent } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { openCheckpoint } from '../../src/families/unipic1/convert/open-checkpoint.js';
import { openTorchCheckpoint } from '../../src/convert/readers/torch-checkpoint-reader.js';
import { tinyCheckpointConfig } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { writeTorchCheckpoint, type TorchTensorInput } from '../../src/convert/writers/torch-checkpoint-writer.js';
import { AbortError } from '../../src/errors/abort-error.js';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { encodeSafetensors } from '../../src/formats/safetensors-encoder.js';
import { unipic1ManifestSchema as manifestSchema } from '../../src/families/unipic1/manifest.js';
import { GRAPH_NAMES } from '../../src/families/unipic1/manifest.js';
import { tinyCheckpointDir } from '../support/tiny-model.js';
import { temporaryFolder } from './readers/support/checkpoint-test-helpers.js';

let tiny: string;
let folder: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  tiny = await tinyCheckpointDir();
});
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('convertCheckpoint on the tiny checkpoint', () => {
  it('writes every graph in every dtype, tables per resolution, tokenizer, and a manifest that hashes every file', async () => {
    const out = join(folder.path, 'model');
    const events: ConvertProgressEvent[] = [];
    const summary = await convertCheckpoint(tiny, out, { dtypes: ['fp32', 'q4'], fusedSampler: true, onProgress: (event) => events.push(event) });
    const { manifest } = summary;
    expect(manifestSchema.parse(JSON.parse(await readFile(join(out, 'unipic.json'), 'utf8')))).toEqual(manifest);

    expect(Object.keys(manifest.graphs).sort()).toEqual([...GRAPH_NAMES].sort());
    for (const graph of GRAPH_NAMES) {
      const variants = manifest.graphs[graph]!;
      expect(Object.keys(variants).sort(), graph).toEqual(['fp32', 'q4']);
      expect(variants.fp32!.file).toBe(`${graph}.fp32.onnx`);
      // The VAE is convolutions and GroupNorm: its q4 entry points at the float32 files.
      expect(variants.q4!.file, graph).toBe(graph.startsWith('vae_') ? `${graph}.fp32.onnx` : `${graph}.q4.onnx`);
    }
    expect(manifest.resolutions).toEqual([
      { size: 64, grid: 4, tables: 'tables-64.safetensors' },
      { size: 128, grid: 8, tables: 'tables-128.safetensors' },
    ]);
    expect(manifest.constants).toBe('mar-constants.safetensors');

    // The manifest lists exactly the files on disk (besides itself), with their real sizes and digests.
    const onDisk = (await readdir(out)).filter((name) => name !== 'unipic.json').sort();
    expect(manifest.files.map((file) => file.path).sort()).toEqual(onDisk);
    for (const file of manifest.files) {
      const bytes = await readFile(join(out, file.path));
      expect({ path: file.path, size: bytes.length, sha256: sha256(bytes) }).toEqual(file);
    }
    expect(summary.graphs.map((graph) => `${graph.graph}.${graph.dtype}`)).toEqual(
      GRAPH_NAMES.flatMap((graph) => (graph.startsWith('vae_') ? [`${graph}.fp32`] : [`${graph}.fp32`, `${graph}.q4`])),
    );
    expect(summary.warnings).toEqual([]);
    expect(summary.keys.unknown).toEqual([]);
    expect(summary.keys.missing).toEqual([]);
    expect(summary.keys.ignored.map((entry) => entry.key).sort()).toEqual([
      'llm.lm_head.weight',
      'mar.class_emb.weight',
      'siglip2.vision_model.post_layernorm.weight',
      'siglip2_proj.0.bias',
      'siglip2_proj.0.weight',
    ]);
    for (const entry of summary.keys.ignored) expect(entry.why.length, entry.key).toBeGreaterThan(10);

    // Progress: graph counts never go back, and the last event says everything is done.
    const buildEvents = events.filter((event) => event.stage === 'read' || event.stage === 'build');
    expect(buildEvents.every((event, i) => i === 0 || event.done >= buildEvents[i - 1].done)).toBe(true);
    expect(buildEvents.every((event) => event.total === 26)).toBe(true); // 13 graphs × 2 dtypes
    expect(events.map((event) => event.stage).filter((stage, i, all) => stage !== all[i - 1])).toEqual([
      ...GRAPH_NAMES.flatMap(() => ['read', 'build']),
      'tables',
      'tokenizer',
      'hash',
    ]);
    const last = events.at(-1)!;
    expect(last.done).toBe(last.total);
  });

  it('q8 writes int8 products for the linear graphs and reuses the fp32 files for the embedding table and the VAE', async () => {
    const out = join(folder.path, 'model');
    const { manifest } = await convertCheckpoint(tiny, out, { dtypes: ['fp32', 'q8'] });
    for (const graph of GRAPH_NAMES) {
      const variants = manifest.graphs[graph];
      if (!variants) continue;
      const reused = graph === 'embed' || graph.startsWith('vae_');
      expect(variants.q8!.file, graph).toBe(reused ? `${graph}.fp32.onnx` : `${graph}.q8.onnx`);
      const text = (await readFile(join(out, variants.q8!.file))).toString('latin1');
      expect(text.includes('DynamicQuantizeMatMul'), graph).toBe(!reused);
    }
  }, 120_000);

  it('refuses a key it does not know under a module it converts, and ignores one outside every module, with the reason', async () => {
    const checkpoint = join(folder.path, 'checkpoint');
    await cp(tiny, checkpoint, { recursive: true });
    const source = await openTorchCheckpoint(join(checkpoint, 'pytorch_model.bin'));
    const entries: [string, TorchTensorInput][] = [];
    for (const [name, tensor] of source.tensors) entries.push([name, { dtype: tensor.dtype, shape: tensor.shape, data: await source.readBytes(name) }]);
    await source.close();
    const extra = (name: string): [string, TorchTensorInput] => [name, { dtype: 'float32', shape: [2], data: new Uint8Array(8) }];
    await writeTorchCheckpoint(join(checkpoint, 'pytorch_model.bin'), [...entries, extra('mar.brand_new_head.weight')]);
    const error = await convertCheckpoint(checkpoint, join(folder.path, 'refused'), { resolutions: [64] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidModelError);
    expect((error as InvalidModelError).details).toEqual({ unknown: ['mar.brand_new_head.weight'] });
    expect(existsSync(join(folder.path, 'refused'))).toBe(false);

    await writeTorchCheckpoint(join(checkpoint, 'pytorch_model.bin'), [...entries, extra('ema_model.weight')]);
    const summary = await convertCheckpoint(checkpoint, join(folder.path, 'model'), { resolutions: [64] });
    expect(summary.keys.unknown).toEqual([]);
    expect(summary.keys.ignored).toContainEqual({ key: 'ema_model.weight', why: expect.stringMatching(/matches no module of the UniPic-1 model/) });
  });

  it('falls back to the bundled Qwen2.5 tokenizer, with a warning, when the checkpoint has none', async () => {
    const checkpoint = join(folder.path, 'checkpoint');
    await cp(tiny, checkpoint, { recursive: true });
    for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) await rm(join(checkpoint, 'Qwen2.5-1.5B-Instruct', file));
    const withBundled = await convertCheckpoint(checkpoint, join(folder.path, 'a'), { resolutions: [64] });
    expect(withBundled.warnings).toEqual([
      expect.stringMatching(/no tokenizer files in .*Qwen2\.5-1\.5B-Instruct: using the Qwen2\.5 tokenizer bundled with unipic/),
    ]);
    const withOwn = await convertCheckpoint(tiny, join(folder.path, 'b'), { resolutions: [64] });
    // The tiny checkpoint carries copies of the bundled files, so both runs write the same tokenizer.
    expect(sha256(await readFile(join(folder.path, 'a', 'tokenizer.json')))).toBe(sha256(await readFile(join(folder.path, 'b', 'tokenizer.json'))));
    expect(withOwn.warnings).toEqual([]);
  });

  it('converts a single safetensors file holding every weight (the VAE as vae.*) when given the structure', async () => {
    const checkpoint = await openCheckpoint(tiny);
    const tensors = [];
    for (const [name, tensor] of checkpoint.tensors) {
      if (name !== 'llm.lm_head.weight') tensors.push({ name, dtype: tensor.dtype, shape: [...tensor.shape], data: await checkpoint.readBytes(name) });
    }
    await checkpoint.close();
    const file = join(folder.path, 'unified.safetensors');
    await writeFile(file, encodeSafetensors(tensors));
    const summary = await convertCheckpoint(file, join(folder.path, 'model'), { structure: tinyCheckpointConfig(), resolutions: [64] });
    expect(summary.manifest.source).toBe('converted from unified.safetensors');
    expect(summary.warnings).toEqual([
      expect.stringMatching(/assuming Qwen2\.5-1\.5B-Instruct's generation_config\.json/),
      expect.stringMatching(/using the Qwen2\.5 tokenizer bundled with unipic/),
    ]);
    const reference = await convertCheckpoint(tiny, join(folder.path, 'reference'), { resolutions: [64] });
    const graphDigests = (files: readonly { path: string; sha256: string }[]) => files.filter((f) => f.path.includes('.onnx')).map((f) => `${f.path} ${f.sha256}`);
    expect(graphDigests(summary.manifest.files)).toEqual(graphDigests(reference.manifest.files));
  });

  it('stops with AbortError when aborted between graphs and never writes unipic.json', async () => {
    const out = join(folder.path, 'model');
    const controller = new AbortController();
    const reason = new Error('user stopped');
    const error = await convertCheckpoint(tiny, out, {
      signal: controller.signal,
      onProgress: (event) => {
        if (event.stage === 'build' && event.item.startsWith('llm')) controller.abort(reason);
      },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortError);
    expect(existsSync(join(out, 'embed.fp32.onnx'))).toBe(true);
    expect(existsSync(join(out, 'unipic.json'))).toBe(false);
  });
});
