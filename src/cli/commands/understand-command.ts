import { numberOption, parse, required } from '../arguments.js';
import { RANGES } from '../command-help.js';
import { loadOptions } from './load-options.js';
import { loadWithProgress } from './load-model.js';

/** Streams the answer to stdout as it decodes. */
export async function understandCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values } = parse(args, {
    model: { type: 'string' },
    image: { type: 'string' },
    prompt: { type: 'string' },
    'max-tokens': { type: 'string' },
    size: { type: 'string' },
    sample: { type: 'boolean' },
    temperature: { type: 'string' },
    seed: { type: 'string' },
    device: { type: 'string' },
    dtype: { type: 'string' },
  });
  // Every option is checked before the model loads: a typo costs no load.
  const options = {
    image: required(values.image, 'image'),
    ...(values.prompt ? { prompt: values.prompt } : {}),
    ...(values['max-tokens'] ? { maxTokens: numberOption(values['max-tokens'], 'max-tokens', RANGES['max-tokens']) } : {}),
    ...(values.size ? { size: numberOption(values.size, 'size', RANGES.size) } : {}),
    ...(values.sample ? { doSample: true } : {}),
    ...(values.temperature ? { temperature: numberOption(values.temperature, 'temperature', RANGES['text-temperature']) } : {}),
    ...(values.seed ? { seed: numberOption(values.seed, 'seed', RANGES.seed) } : {}),
    signal,
  };
  const model = await loadWithProgress(required(values.model, 'model'), loadOptions(values));
  try {
    const run = model.understand(options);
    for await (const event of run) if (event.type === 'text-delta') process.stdout.write(event.delta);
    const result = await run.result;
    process.stdout.write('\n');
    process.stderr.write(
      `${result.usage.completionTokens} tokens, ${result.timings.tokensPerSecond.toFixed(1)} tok/s, first token ${result.timings.timeToFirstTokenMs} ms\n`,
    );
  } finally {
    await model.dispose();
  }
}
