/**
 * Region editing: regenerate only the masked part of an image (inpainting), or extend the canvas
 * (outpainting).
 *
 *   npx tsx examples/node/inpaint.ts <model-dir> photo.png mask.png "a red balloon" out.png
 *   npx tsx examples/node/inpaint.ts --outpaint right:256 <model-dir> photo.png "more beach" out.png
 *
 * With no arguments it builds the repo's tiny random model (as `unipic demo` does), paints a test
 * picture and a round mask, and writes docs/images/region-editing.png: input | mask | output. The
 * tiny model's weights are random, so what it paints is noise; the picture shows the mechanics —
 * outside the mask (and its 16-pixel feather) the output is the input, pixel for pixel.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { makeTinyCheckpoint } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { encodePng } from '../../src/core/image/encode-png.js';
import { parseOutpaintSpec } from '../../src/core/region/outpaint-canvas.js';
import { UniPic } from '../../src/index.node.js'; // in your project: from 'unipic'

const args = process.argv.slice(2);
if (args.length > 0) {
  const outpaint = args[0] === '--outpaint' ? parseOutpaintSpec(args[1]) : undefined;
  const rest = outpaint ? args.slice(2) : args;
  const [modelDir, image, ...tail] = rest;
  const [mask, prompt, out] = outpaint ? [undefined, tail[0], tail[1]] : tail;
  // Region generation encodes the source with the VAE encoder, which the edit capability brings.
  const model = await UniPic.load(modelDir, { capabilities: ['generate', 'edit'] });
  try {
    // generate() keeps everything outside the region; edit() would also put the whole image in the prompt.
    const run = model.generate({ image, prompt, ...(mask ? { mask } : {}), ...(outpaint ? { outpaint } : {}), seed: 7 });
    for await (const event of run) if (event.type === 'step-finish') process.stderr.write(`\r${event.iteration + 1}/${event.iterations}`);
    const { images } = await run.result;
    await writeFile(out, images[0].toPNG());
    console.log(`\n${out}`);
  } finally {
    await model.dispose();
  }
} else {
  await tinyPicture();
}

/** The doc picture from the tiny model: input | mask | output, 128 px each. */
async function tinyPicture(): Promise<void> {
  const dir = '.cache/demo';
  const modelDir = join(dir, 'model');
  if (!existsSync(join(modelDir, 'unipic.json'))) {
    await makeTinyCheckpoint(join(dir, 'checkpoint'));
    await convertCheckpoint(join(dir, 'checkpoint'), modelDir, { dtypes: ['fp32'] });
  }
  const size = 128;
  // A landscape: sky gradient, a sun, a green field.
  const input = new Uint8Array(size * size * 3);
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sun = Math.hypot(x - 92, y - 34) < 14;
      const field = y > 86 + 6 * Math.sin(x / 12);
      const pixel = sun ? [255, 214, 80] : field ? [40 + (y % 7) * 4, 140, 60] : [90 + y, 150 + y / 2, 235];
      input.set(pixel, (y * size + x) * 3);
      mask[y * size + x] = Math.hypot(x - 48, y - 64) < 22 ? 255 : 0; // a disc to regenerate
    }
  }
  const model = await UniPic.load(modelDir, { device: 'cpu' });
  try {
    const { images } = await model.generate({
      prompt: 'a hot air balloon',
      image: { data: input, width: size, height: size, channels: 3 },
      mask: { data: mask, width: size, height: size, channels: 1 },
      size,
      steps: 8,
      seed: 42,
    }).result;
    const gap = 4;
    const width = 3 * size + 2 * gap;
    const strip = new Uint8ClampedArray(width * size * 4).fill(255);
    const put = (x0: number, pixel: (i: number) => number[]) => {
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) strip.set([...pixel(y * size + x), 255], (y * width + x0 + x) * 4);
    };
    put(0, (i) => Array.from(input.subarray(i * 3, i * 3 + 3)));
    put(size + gap, (i) => [mask[i], mask[i], mask[i]]);
    put(2 * (size + gap), (i) => Array.from(images[0].data.subarray(i * 4, i * 4 + 3)));
    await mkdir('docs/images', { recursive: true });
    await writeFile('docs/images/region-editing.png', encodePng(strip, width, size));
    console.log('docs/images/region-editing.png');
  } finally {
    await model.dispose();
  }
}
