/**
 * Image + instruction → image.
 *
 *   npx tsx examples/node/edit.ts <model-dir> photo.png "Make the sky purple." edited.png
 */
import { writeFile } from 'node:fs/promises';
import { UniPic } from '../../src/index.node.js'; // in your project: from 'unipic'

const [modelDir = '.cache/demo/model', image = 'demo.png', instruction = 'Make the sky purple.', out = 'edited.png'] = process.argv.slice(2);
const model = await UniPic.load(modelDir, { capabilities: ['edit'] });
try {
  const { images } = await model.edit({ image, prompt: instruction, seed: 7 }).result;
  await writeFile(out, images[0].toPNG());
  console.log(out);
} finally {
  await model.dispose();
}
