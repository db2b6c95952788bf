/**
 * Text → image with progress, previews and cancellation on Ctrl-C.
 *
 *   npx tsx examples/node/generate.ts <model-dir> "a lighthouse at dawn" out.png
 *
 * (Any converted model folder; `npm run demo` builds the tiny one in .cache/demo/model.)
 */
import { writeFile } from 'node:fs/promises';
import { encodePng, UniPic } from '../../src/index.node.js'; // in your project: from 'unipic'

const [modelDir = '.cache/demo/model', prompt = 'a lighthouse at dawn', out = 'generated.png'] = process.argv.slice(2);
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const model = await UniPic.load(modelDir, {
  onProgress: (p) => process.stderr.write(`\r${p.phase} ${Math.round((100 * p.loaded) / p.total)}%   `),
});
model.on('warning', (w) => console.warn(`\n${w.message}`));
try {
  const run = model.generate({ prompt, seed: 42, preview: 8, signal: controller.signal });
  for await (const event of run) {
    if (event.type === 'step-finish') process.stderr.write(`\rstep ${event.iteration + 1}/${event.iterations}   `);
    if (event.type === 'image-preview') {
      const [preview] = event.images;
      await writeFile(`preview-${event.iteration}.png`, encodePng(preview.data, preview.width, preview.height));
    }
  }
  const { images, seed, timings } = await run.result;
  await writeFile(out, images[0].toPNG());
  console.log(`\n${out} (seed ${seed}, ${(timings.totalMs / 1000).toFixed(1)} s)`);
} finally {
  await model.dispose();
}
