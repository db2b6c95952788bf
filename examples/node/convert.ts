/**
 * Official checkpoint folder → model folder, with a progress line and the key accounting.
 *
 *   npx tsx examples/node/convert.ts ./checkpoint ./unipic-1.5b
 */
import { convertCheckpoint } from '../../src/convert/index.js'; // in your project: from 'unipic/convert'

const [checkpoint = '.cache/demo/checkpoint', out = '.cache/demo/model-q4'] = process.argv.slice(2);
const summary = await convertCheckpoint(checkpoint, out, {
  dtypes: ['fp32', 'q4'],
  onProgress: (e) => process.stderr.write(`\r${e.stage} ${e.item} (${e.done}/${e.total})      `),
});
console.log(`\n${summary.graphs.length} graphs in ${(summary.ms / 1000).toFixed(1)} s`);
console.log(`ignored keys: ${summary.keys.ignored.map((k) => k.key).join(', ')}`);
for (const warning of summary.warnings) console.warn(warning);
