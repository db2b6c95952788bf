import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IntegrityError, InvalidModelError, InvalidOptionsError, NumericError, UniPicError } from '../../src/index.node.js';
import type { UniPic1Manifest as Manifest } from '../../src/families/unipic1/manifest.js';
import { damagedCopy, expectNoLiveTensors, imageFixture, loadInstrumented, QUICK, rejection, thrown } from './support/tiny-fixture.js';

const image = imageFixture('rgb-64x64.png');

async function flipBytes(folder: string, file: string, from: number, count: number): Promise<void> {
  const bytes = await readFile(join(folder, file));
  for (let i = from; i < from + count; i++) bytes[i] ^= 0x5a;
  await writeFile(join(folder, file), bytes);
}

/**
 * Load a damaged copy and try both pipelines. `generate` uses the MAR/VAE-decoder graphs and the
 * mask constant; `understand` uses lm_head and the VAE encoder: a fault in one file must fail
 * only the calls that need it, with a typed error, every time, and leave nothing alive.
 */
async function tryBoth(folder: string) {
  const { model, backend } = await loadInstrumented(folder);
  try {
    const outcome = async (start: () => { result: Promise<unknown> }) => {
      const first = await start().result.then(
        () => undefined,
        (error: unknown) => error as UniPicError,
      );
      // The same fault again: no state was cached from the failure (a failed session is retried).
      const second = await start().result.then(
        () => undefined,
        (error: unknown) => error as UniPicError,
      );
      expect(second?.code).toBe(first?.code);
      expectNoLiveTensors(backend, model.config.llm.numLayers);
      return first;
    };
    return {
      generate: await outcome(() => model.generate({ prompt: 'x', ...QUICK })),
      understand: await outcome(() => model.understand({ image, size: 64, maxTokens: 2 })),
      liveSessions: () => backend.liveSessions,
    };
  } finally {
    await model.dispose();
    expect(backend.liveSessions).toBe(0);
  }
}

describe('damaged model files at the model level', () => {
  it('an ONNX graph whose bytes changed (sha256 mismatch): verify "full" refuses the load, "fast" fails the calls that need it', async () => {
    const copy = await damagedCopy((_, folder) => flipBytes(folder, 'llm.fp32.onnx', 0, 64), { keepRecords: true });
    try {
      const failure = await rejection(loadInstrumented(copy.folder, { verify: 'full' }));
      expect(failure).toBeInstanceOf(IntegrityError);
      expect(failure.message).toContain('llm.fp32.onnx');
      const outcome = await tryBoth(copy.folder);
      // Both pipelines need the llm. The adapter reports ORT's "Missing model IR version" as a
      // runtime failure of session creation, naming the graph.
      for (const error of [outcome.generate, outcome.understand]) {
        expect(UniPicError.isInstance(error)).toBe(true);
        expect(error?.details).toMatchObject({ phase: 'create-session', graph: 'llm' });
      }
    } finally {
      await copy.remove();
    }
  });

  it('a truncated ONNX graph listed with its new size fails only the pipeline that uses it, as InvalidModelError', async () => {
    const copy = await damagedCopy((_, folder) => truncate(join(folder, 'mar_decoder.fp32.onnx'), 5000));
    try {
      const outcome = await tryBoth(copy.folder);
      expect(outcome.generate).toBeInstanceOf(InvalidModelError);
      expect(outcome.generate?.details).toMatchObject({ phase: 'create-session', graph: 'mar_decoder' });
      expect(outcome.understand).toBeUndefined();
    } finally {
      await copy.remove();
    }
  });

  it('truncated external data: refused at load when the manifest size disagrees, a typed session error when it agrees', async () => {
    const stale = await damagedCopy((_, folder) => truncate(join(folder, 'mar_decoder.fp32.onnx.data'), 5000), { keepRecords: true });
    const consistent = await damagedCopy((_, folder) => truncate(join(folder, 'mar_decoder.fp32.onnx.data'), 5000));
    try {
      const failure = await rejection(loadInstrumented(stale.folder));
      expect(failure).toBeInstanceOf(IntegrityError);
      expect(failure.message).toContain('mar_decoder.fp32.onnx.data');
      const outcome = await tryBoth(consistent.folder);
      // ORT: "External initializer ... are out of bounds or can not be read in full".
      expect(UniPicError.isInstance(outcome.generate)).toBe(true);
      expect(outcome.generate?.details).toMatchObject({ phase: 'create-session', graph: 'mar_decoder' });
      expect(outcome.understand).toBeUndefined();
    } finally {
      await stale.remove();
      await consistent.remove();
    }
  });

  it('NaN weights make the real runtime produce NaN: a NumericError, not a black image', async () => {
    const copy = await damagedCopy(async (_, folder) => {
      const bytes = await readFile(join(folder, 'vae_decoder.fp32.onnx.data'));
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let at = 0; at + 4 <= bytes.length; at += 4) view.setUint32(at, 0x7fc00000, true);
      await writeFile(join(folder, 'vae_decoder.fp32.onnx.data'), bytes);
    });
    try {
      const outcome = await tryBoth(copy.folder);
      expect(outcome.generate).toBeInstanceOf(NumericError);
      expect(outcome.generate?.details).toMatchObject({ graph: 'vae_decoder', output: 'pixels' });
      expect(outcome.understand).toBeUndefined();
    } finally {
      await copy.remove();
    }
  });

  for (const [label, file, damage, needs] of [
    ['position tables', 'tables-64.safetensors', (folder: string) => flipBytes(folder, 'tables-64.safetensors', 0, 8), 'both'],
    ['the mask-token constants', 'mar-constants.safetensors', (folder: string) => flipBytes(folder, 'mar-constants.safetensors', 0, 8), 'generate'],
    ['tokenizer.json', 'tokenizer.json', (folder: string) => flipBytes(folder, 'tokenizer.json', 1, 4), 'both'],
    ['tokenizer_config.json', 'tokenizer_config.json', (folder: string) => writeFile(join(folder, 'tokenizer_config.json'), '[1,2'), 'both'],
  ] as const) {
    it(`damaged ${label} fail the calls that read them with InvalidModelError naming the file`, async () => {
      const copy = await damagedCopy((_, folder) => damage(folder));
      try {
        const outcome = await tryBoth(copy.folder);
        expect(outcome.generate).toBeInstanceOf(InvalidModelError);
        expect(outcome.generate?.message).toContain(file);
        if (needs === 'both') expect(outcome.understand).toBeInstanceOf(InvalidModelError);
        else expect(outcome.understand).toBeUndefined();
      } finally {
        await copy.remove();
      }
    });
  }

  it('a manifest without the graphs of a capability: the model loads without it and says so', async () => {
    const copy = await damagedCopy((manifest: Manifest) => {
      const graphs = manifest.graphs as Record<string, unknown>;
      delete graphs.lm_head;
      (manifest as { files: { path: string }[] }).files = manifest.files.filter((entry) => !entry.path.startsWith('lm_head.'));
    });
    try {
      const failure = await rejection(loadInstrumented(copy.folder, { capabilities: ['understand'] }));
      expect(failure).toBeInstanceOf(InvalidOptionsError);
      expect(failure.message).toContain('understand');
      const { model, backend } = await loadInstrumented(copy.folder);
      expect(model.capabilities).toEqual(['generate', 'edit']);
      const refused = thrown(() => model.understand({ image, size: 64 }));
      expect(refused).toMatchObject({ code: 'CAPABILITY_UNAVAILABLE' });
      expect((await model.generate({ prompt: 'x', ...QUICK }).result).images).toHaveLength(1);
      await model.dispose();
      expect(backend.liveSessions).toBe(0);
    } finally {
      await copy.remove();
    }
  });

  it('a manifest of an unknown version is refused at load, naming the version', async () => {
    const copy = await damagedCopy((manifest: Manifest) => {
      (manifest as { version: number }).version = 99;
    });
    try {
      const failure = await rejection(loadInstrumented(copy.folder));
      expect(failure).toBeInstanceOf(InvalidModelError);
      expect(failure.message).toMatch(/version 99 is not supported.*upgrade/);
    } finally {
      await copy.remove();
    }
  });

  it('a manifest naming a file outside the folder is refused at load', async () => {
    const copy = await damagedCopy((manifest: Manifest) => {
      const llm = (manifest.graphs as Record<string, { fp32: { file: string } }>).llm.fp32;
      const entry = manifest.files.find((file) => file.path === llm.file)!;
      llm.file = '../llm.fp32.onnx';
      (entry as { path: string }).path = '../llm.fp32.onnx';
    });
    try {
      const failure = await rejection(loadInstrumented(copy.folder));
      expect(failure).toBeInstanceOf(InvalidModelError);
      expect(failure.message).toContain('graphs.llm.fp32.file: path must stay inside the model folder');
    } finally {
      await copy.remove();
    }
  });
});
