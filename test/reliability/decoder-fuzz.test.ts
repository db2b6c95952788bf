import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../src/core/image/index.js';
import { InvalidInputError, InvalidModelError } from '../../src/index.node.js';
import { parseManifest } from '../../src/core/sources/parse-manifest.js';
import { imageFixture, tinyDir } from './support/tiny-fixture.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Bounded property tests: a fixed seed (reproducible in CI), a run count, and a wall-clock cap
// per property so two slow cores never stall the suite. A counterexample prints its seed/path.
// UNIPIC_FUZZ_SEED / UNIPIC_FUZZ_RUNS widen a local hunt without touching CI's bounds.
const BOUNDS = {
  seed: Number(process.env.UNIPIC_FUZZ_SEED ?? 20260),
  numRuns: Number(process.env.UNIPIC_FUZZ_RUNS ?? 150),
  interruptAfterTimeLimit: 8_000,
} as const;
// One decode of these small images takes milliseconds; this catches a decoder that spins.
const PER_DECODE_MS = 2_000;

/** A decode either yields a consistent RGB image or is refused with InvalidInputError, quickly. */
async function decodesOrRefuses(bytes: Uint8Array): Promise<boolean> {
  const started = Date.now();
  try {
    const image = await loadImage(bytes, { maxPixels: 4_000_000 });
    expect(image.width).toBeGreaterThan(0);
    expect(image.height).toBeGreaterThan(0);
    expect(image.data.length).toBe(image.width * image.height * 3);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw new Error(`untyped failure: ${String(error)}`, { cause: error });
  }
  expect(Date.now() - started).toBeLessThan(PER_DECODE_MS);
  return true;
}

/** Mutations of a valid file: byte flips, overwritten runs, truncation, and a splice of junk. */
function mutated(original: Uint8Array): fc.Arbitrary<Uint8Array> {
  const length = original.length;
  const flips = fc.array(fc.tuple(fc.nat({ max: length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }).map((changes) => {
    const copy = original.slice();
    for (const [at, xor] of changes) copy[at] ^= xor;
    return copy;
  });
  const truncated = fc.nat({ max: length - 1 }).map((end) => original.slice(0, end));
  const overwritten = fc.tuple(fc.nat({ max: length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([at, junk]) => {
    const copy = original.slice();
    copy.set(junk.subarray(0, length - at), at);
    return copy;
  });
  // The header region is where sizes and offsets live: hit it more often.
  const header = fc.array(fc.tuple(fc.nat({ max: Math.min(64, length - 1) }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((changes) => {
    const copy = original.slice();
    for (const [at, xor] of changes) copy[at] ^= xor;
    return copy;
  });
  return fc.oneof(flips, truncated, overwritten, header);
}

describe('image decoders on hostile bytes (bounded property tests)', () => {
  it('random bytes, with and without a real magic number, decode or fail with InvalidInputError', async () => {
    const magic = fc.constantFrom(
      [],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      [0xff, 0xd8, 0xff],
      [0x52, 0x49, 0x46, 0x46, 0x20, 0, 0, 0, 0x57, 0x45, 0x42, 0x50],
    );
    await fc.assert(
      fc.asyncProperty(magic, fc.uint8Array({ maxLength: 512 }), (prefix, rest) => decodesOrRefuses(new Uint8Array([...prefix, ...rest]))),
      BOUNDS,
    );
  });

  for (const file of ['rgb-37x61.png', 'palette4-trns-15x9.png', 'photo-420-33x17.jpg', 'photo-progressive-64x48.jpg', 'lossy-40x30.webp', 'lossless-40x30.webp']) {
    it(`mutations of ${file} decode or fail with InvalidInputError`, async () => {
      await fc.assert(fc.asyncProperty(mutated(imageFixture(file)), decodesOrRefuses), BOUNDS);
    });
  }
});

describe('the wasm decoders survive many failures', () => {
  // Found by the mutation fuzzing above (seed 2): each failed MozJPEG decode left the Emscripten
  // instance partly unwound, and after ~100 failures every JPEG failed ("Aborted()", "memory
  // access out of bounds") or the process hung: one client's bad uploads broke every later one.
  for (const [file, cut] of [
    ['photo-420-33x17.jpg', 531],
    ['lossy-40x30.webp', 268],
  ] as const) {
    it(`${file}: 300 refused truncations later, the intact file decodes to the same pixels`, async () => {
      const intact = imageFixture(file);
      const before = await loadImage(intact);
      for (let i = 0; i < 300; i++) await expect(loadImage(intact.subarray(0, cut))).rejects.toBeInstanceOf(InvalidInputError);
      const after = await loadImage(intact);
      // The same decoder on the same bytes: tolerance 0.
      expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(true);
    });
  }
});

describe('manifest parser on hostile documents (bounded property tests)', () => {
  it("mutations of the tiny model's unipic.json parse or fail with InvalidModelError", async () => {
    const text = await readFile(join(await tinyDir(), 'unipic.json'), 'utf8');
    const original = new TextEncoder().encode(text);
    const json = JSON.parse(text) as Record<string, unknown>;
    const paths = collectPaths(json);
    const valueEdits = fc.tuple(fc.constantFrom(...paths), fc.jsonValue()).map(([path, value]) => {
      const copy = structuredClone(json);
      setAt(copy, path, value);
      return JSON.stringify(copy);
    });
    const byteEdits = mutated(original).map((bytes) => new TextDecoder().decode(bytes));
    await fc.assert(
      fc.property(fc.oneof(valueEdits, byteEdits), (document) => {
        try {
          const manifest = parseManifest(document, 'fuzz');
          // Whatever parses keeps the promises the loader relies on: files inside the folder.
          for (const entry of manifest.files) expect(entry.path.split('/')).not.toContain('..');
        } catch (error) {
          if (!(error instanceof InvalidModelError)) throw new Error(`untyped failure: ${String(error)}`, { cause: error });
        }
      }),
      { ...BOUNDS, numRuns: 3 * BOUNDS.numRuns },
    );
  });
});

type Json = unknown;

function collectPaths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => collectPaths(item, [...prefix, index], out));
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) collectPaths(item, [...prefix, key], out);
  return out;
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: Json): void {
  if (path.length === 0) return;
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
}
