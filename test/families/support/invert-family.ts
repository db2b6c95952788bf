import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { GraphBuilder } from '../../../src/convert/onnx/graph-builder.js';
import type { FamilyAssets, ModelFamily } from '../../../src/core/family/model-family.js';
import { loadImage, type ImageInput } from '../../../src/core/image/index.js';
import { signalSchema } from '../../../src/core/options/common.js';
import { imageInputSchema } from '../../../src/core/options/image-input.js';
import { DTYPES, graphVariantSchema, manifestSchema } from '../../../src/spec/manifest.js';

/**
 * A test model family, "invert": one graph (`invert`: 255 − x over RGB bytes as float32) and one
 * task (`edit`). It lives only in the tests and is registered from them, proving that a family
 * plugs in without touching UniPic-1's files.
 */
export const INVERT_FAMILY = 'test-invert';

export type InvertEvent =
  | { readonly type: 'inverted'; readonly width: number; readonly height: number }
  | { readonly type: 'warning'; readonly code: string; readonly message: string };

export interface InvertResult {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface InvertTasks {
  generate: { options: never; event: never; result: never };
  understand: { options: never; event: never; result: never };
  edit: { options: { image: ImageInput; signal?: AbortSignal }; event: InvertEvent; result: InvertResult };
}

const editOptions = z.object({ image: imageInputSchema, signal: signalSchema.optional() }).strict();

class InvertAssets implements FamilyAssets {
  disposed = false;
  dispose(): void {
    this.disposed = true;
  }
}

export const invertFamily: ModelFamily<InvertAssets> = {
  id: INVERT_FAMILY,
  versions: [1],
  manifestSchema: manifestSchema
    .extend({
      family: z.literal(INVERT_FAMILY),
      familyVersion: z.literal(1),
      graphs: z.partialRecord(z.enum(['invert']), z.partialRecord(z.enum(DTYPES), graphVariantSchema)),
    })
    .strict(),
  referencedFiles: () => [],
  assetFiles: () => [],
  createAssets: () => new InvertAssets(),
  tasks: {
    edit: {
      graphs: ['invert'],
      options: editOptions,
      async run(context, controller, options: z.output<typeof editOptions>) {
        const image = await loadImage(options.image);
        const pixels = Float32Array.from(image.data);
        const outputs = await context.graphs.run('invert', { pixels: { type: 'float32', dims: [pixels.length], data: pixels } }, { signal: context.signal });
        try {
          const host = await outputs.inverted.download();
          controller.emit({ type: 'inverted', width: image.width, height: image.height });
          return { width: image.width, height: image.height, data: Uint8Array.from(host.data as Float32Array) };
        } finally {
          for (const tensor of Object.values(outputs)) tensor.dispose();
        }
      },
    },
  },
};

/** The family's one graph, built op by op like every converted graph. */
function invertGraph(): Uint8Array {
  const builder = new GraphBuilder('invert');
  const pixels = builder.input('pixels', 'float32', ['n']);
  const [inverted] = builder.node('Sub', [builder.constFloat([255], []), pixels]);
  builder.output(inverted, 'inverted', 'float32', ['n']);
  return builder.toBytes();
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A model folder of the invert family: `invert.onnx` and a `unipic.json` naming the family. */
export async function writeInvertModel(directory: string, manifest: Record<string, unknown> = {}): Promise<void> {
  await mkdir(directory, { recursive: true });
  const graph = invertGraph();
  await writeFile(join(directory, 'invert.onnx'), graph);
  const document = {
    format: 'unipic',
    version: 1,
    family: INVERT_FAMILY,
    familyVersion: 1,
    name: 'invert',
    graphs: { invert: { fp32: { file: 'invert.onnx', externalData: [] } } },
    files: [{ path: 'invert.onnx', size: graph.length, sha256: sha256(graph) }],
    ...manifest,
  };
  await writeFile(join(directory, 'unipic.json'), JSON.stringify(document, null, 2));
}
