/**
 * q4 decode against llama.cpp Q4_0 alone, on the decode benchmark's full-size models (build them
 * with `npm run bench -- --only decode` first): our q4-acc4 graphs (copying and in-place cache) and
 * llama.cpp, each with 2 and 1 threads, and ours with 2 spinning threads, alternating run by run. Cheaper than the whole decode
 * section (no fp32 group, no transformers.js), for reruns when the machine is quiet.
 *
 *   npx tsx bench/decode-vs-llama.ts --folder bench/.cache/decode-qwen2.5-1.5b [--repeats 3] [--tokens 12]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UNIPIC_1_5B, toModelConfig } from '../src/families/unipic1/convert/checkpoint-config.js';
import type { DecodeModelFolder } from './lib/decode-models.js';
import { OurDecoder, decodeTimings, type DecodeTrace } from './lib/decode-runners.js';
import { LlamaCppDecoder } from './lib/llama-cpp-decoder.js';
import { formatMs, median } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const { values: args } = parseArgs({
  options: { folder: { type: 'string' }, repeats: { type: 'string', default: '3' }, tokens: { type: 'string', default: '12' } },
});
if (!args.folder) throw new Error('--folder: the decode benchmark folder (bench/.cache/decode-qwen2.5-1.5b)');
const folder = JSON.parse(await readFile(join(args.folder, 'bench-folder.json'), 'utf8')) as DecodeModelFolder;
const config = toModelConfig(UNIPIC_1_5B);
const prompt = Array.from({ length: 32 }, (_, i) => 1000 + ((i * 7919) % 50000));
const load = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' / ');

type Decoder = { generate(p: readonly number[], n: number): Promise<DecodeTrace>; close(): Promise<void> };
const systems: { name: string; decoder: Decoder; perToken: number[] }[] = [];
const gguf = join(args.folder, 'llama-Q4_0.gguf');
for (const threads of [2, 1]) {
  systems.push({ name: `llama.cpp Q4_0 · ${threads} threads`, decoder: await LlamaCppDecoder.open(gguf, { threads, contextSize: 512 }), perToken: [] });
  for (const variant of ['q4-acc4', 'q4-acc4 · in-place KV']) {
    const decoder = await OurDecoder.open(folder.onnxDir, folder.ours[variant], config, {
      threads,
      inPlace: variant.includes('in-place') ? 'values-transposed' : undefined,
    });
    systems.push({ name: `unipic ${variant} · ${threads} threads`, decoder, perToken: [] });
  }
}
// Spinning intra-op threads, as ggml's are: off in the SDK by default (2× slower under load); a
// user opts in with the session config entry. Measured beside the blocking ones.
const spinning = await OurDecoder.open(folder.onnxDir, folder.ours['q4-acc4 · in-place KV'], config, { threads: 2, spinning: true, inPlace: 'values-transposed' });
systems.push({ name: 'unipic q4-acc4 · in-place KV · 2 spinning threads', decoder: spinning, perToken: [] });
const startLoad = await load();
try {
  for (const entry of systems) await entry.decoder.generate(prompt, 2);
  for (let run = 0; run < Number(args.repeats); run++) {
    for (const entry of systems) entry.perToken.push(decodeTimings(await entry.decoder.generate(prompt, Number(args.tokens))).perTokenMs);
  }
} finally {
  for (const entry of systems) await entry.decoder.close();
}
const llama = median(systems[0].perToken);
console.log(
  formatTable(
    ['system', 'ms / token', 'tokens / s', 'vs llama.cpp Q4_0 · 2 threads', 'runs'],
    systems.map(({ name, perToken }) => {
      const ms = median(perToken);
      return [name, formatMs(ms), (1000 / ms).toFixed(2), `${(llama / ms).toFixed(2)}×`, perToken.map((t) => formatMs(t)).join(', ')];
    }),
  ),
);
console.log(
  `\nprompt 32 tokens, ${args.tokens} new, median of ${args.repeats} alternated runs after a warm-up; load average ${startLoad} at the start, ${await load()} at the end`,
);
