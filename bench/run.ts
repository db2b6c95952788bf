/**
 * `npm run bench`: unipic's performance and memory benchmarks on this machine's CPU, each beside
 * the peer it is measured against, printed as tables with one summary line each. Results also go
 * to bench/results/latest.{json,md} (the source of docs/performance.md) after a complete run,
 * to bench/results/partial.{json,md} after a quick or partial one.
 *
 *   npm run bench                         all sections (first run also builds the models, cached)
 *   npm run bench -- --only decode,head   some sections: decode, mar, head, memory, vae, load, paper, mq-decode
 *                                         (mq-decode needs UNIPIC_MQ_MODEL: a converted full-size Metaquery q4 folder)
 *   npm run bench -- --quick              smoke run: fewer tokens, repeats and steps
 *   npm run bench -- --repeats 5          repeats per measurement (default 3)
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './lib/machine.js';
import type { BenchContext, SectionResult } from './lib/section.js';
import { decodeSection } from './sections/decode.js';
import { diffusionHeadSection } from './sections/diffusion-head.js';
import { loadSection } from './sections/load.js';
import { marIterationSection } from './sections/mar-iteration.js';
import { memorySection } from './sections/memory.js';
import { mqDecodeSection } from './sections/mq-decode.js';
import { paperEstimateSection } from './sections/paper-estimate.js';
import { stripVaeSection } from './sections/strip-vae.js';

const SECTIONS: Record<string, (context: BenchContext) => Promise<SectionResult>> = {
  decode: decodeSection,
  mar: marIterationSection,
  head: diffusionHeadSection,
  memory: memorySection,
  vae: stripVaeSection,
  'mq-decode': mqDecodeSection,
  load: loadSection,
  paper: paperEstimateSection,
};

const here = dirname(fileURLToPath(import.meta.url));

function parseArguments(argv: readonly string[]) {
  // mq-decode needs a full-size conversion made beforehand: run it by name only.
  const options = {
    only: Object.keys(SECTIONS).filter((name) => name !== 'mq-decode'),
    quick: false,
    repeats: 3,
    cacheDir: join(here, '.cache'),
    python: undefined as string | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--only')
      options.only = value()
        .split(',')
        .map((s) => s.trim());
    else if (flag === '--quick') options.quick = true;
    else if (flag === '--repeats') options.repeats = Number(value());
    else if (flag === '--cache-dir') options.cacheDir = resolve(value());
    else if (flag === '--python') options.python = value();
    else throw new Error(`unknown option ${flag} (see bench/run.ts)`);
  }
  const unknown = options.only.filter((name) => !SECTIONS[name]);
  if (unknown.length) throw new Error(`unknown section ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`);
  if (!(Number.isInteger(options.repeats) && options.repeats >= 1)) throw new Error('--repeats needs a positive integer');
  return options;
}

function findPython(explicit: string | undefined): string | undefined {
  if (explicit) return explicit;
  const venv = join(here, '..', 'tools', 'reference', '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : undefined;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const machine = describeMachine();
  const started = Date.now();
  const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  console.log(`unipic bench — ${machine.date}`);
  console.log(
    `${machine.cpu}, ${machine.logicalCores} logical cores (${machine.cpuFlags}), ${machine.memoryGiB} GiB; node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode}, @huggingface/transformers ${machine.transformersJs}; load average ${machine.loadAverage}`,
  );
  await mkdir(options.cacheDir, { recursive: true });
  const context: BenchContext = { cacheDir: options.cacheDir, quick: options.quick, repeats: options.repeats, python: findPython(options.python), log };
  const results: SectionResult[] = [];
  const failures: string[] = [];
  for (const name of options.only) {
    try {
      const result = await SECTIONS[name](context);
      results.push(result);
      console.log(`\n## ${result.title}\n\n${result.table}\n`);
      for (const note of result.notes) console.log(`- ${note}`);
      console.log(`\n${result.summary}\n`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${name}: ${message.split('\n')[0]}`);
      console.error(`\nsection ${name} failed: ${message}\n`);
    }
  }
  const elapsed = (Date.now() - started) / 1000;
  console.log(`# summary (${elapsed.toFixed(0)} s, load average now ${describeMachine().loadAverage})`);
  for (const result of results) console.log(`- ${result.summary}`);
  for (const failure of failures) console.log(`- FAILED ${failure}`);

  const resultsDir = join(here, 'results');
  await mkdir(resultsDir, { recursive: true });
  // Only a complete, non-quick run replaces latest.* (the source of docs/performance.md).
  const complete = !options.quick && options.only.length === Object.keys(SECTIONS).length && failures.length === 0;
  const base = complete ? 'latest' : 'partial';
  await writeFile(
    join(resultsDir, `${base}.json`),
    JSON.stringify({ machine, options: { ...options, cacheDir: undefined }, elapsedSeconds: elapsed, results, failures }, null, 2),
  );
  const markdown = results.map((r) => `## ${r.title}\n\n${r.table}\n\n${r.notes.map((n) => `- ${n}`).join('\n')}\n\n${r.summary}\n`).join('\n');
  await writeFile(join(resultsDir, `${base}.md`), `${machine.date}, ${machine.cpu}, ${machine.logicalCores} cores, load ${machine.loadAverage}\n\n${markdown}`);
  if (failures.length) process.exitCode = 1;
}

await main();
