/**
 * Image + question → text, streamed; then a follow-up question that reuses the image's cache.
 *
 *   npx tsx examples/node/understand.ts <model-dir> photo.png "What is in this picture?"
 */
import { UniPic } from '../../src/index.node.js'; // in your project: from 'unipic'

const [modelDir = '.cache/demo/model', image = 'demo.png', question = 'Describe the image in detail.'] = process.argv.slice(2);
const model = await UniPic.load(modelDir, { capabilities: ['understand'] });
try {
  for (const prompt of [question, 'Answer in one word: what is the main colour?']) {
    const run = model.understand({ image, prompt, maxTokens: 128 });
    process.stdout.write(`> ${prompt}\n`);
    for await (const event of run) if (event.type === 'text-delta') process.stdout.write(event.delta);
    const { usage, timings, reusedImageCache } = await run.result;
    console.log(`\n(${usage.completionTokens} tokens, ${timings.tokensPerSecond.toFixed(1)} tok/s, image cache ${reusedImageCache ? 'reused' : 'built'})\n`);
  }
} finally {
  await model.dispose();
}
