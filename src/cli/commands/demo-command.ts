import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint } from '../../families/unipic1/convert/convert-checkpoint.js';
import { makeTinyCheckpoint } from '../../families/unipic1/convert/tiny/make-tiny.js';
import { parse } from '../arguments.js';
import { generateCommand } from './image-commands.js';

/**
 * The README's first command: build the repo's tiny random UniPic (official checkpoint layout),
 * convert it, and generate an image with it — the whole chain on this machine's CPU in seconds.
 */
export async function demoCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values } = parse(args, { dir: { type: 'string' }, out: { type: 'string' }, prompt: { type: 'string' } });
  const dir = values.dir ?? '.cache/demo';
  const modelDir = join(dir, 'model');
  if (!existsSync(join(modelDir, 'unipic.json'))) {
    process.stderr.write(`building the tiny model in ${dir} …\n`);
    await makeTinyCheckpoint(join(dir, 'checkpoint'));
    await convertCheckpoint(join(dir, 'checkpoint'), modelDir, { dtypes: ['fp32'], signal });
  }
  await generateCommand(
    ['--model', modelDir, '--prompt', values.prompt ?? 'a lighthouse at dawn', '--out', values.out ?? 'demo.png', '--size', '64', '--steps', '8', '--seed', '42'],
    signal,
  );
  process.stderr.write(
    `the converted tiny model is in ${modelDir} (its checkpoint in ${join(dir, 'checkpoint')}): ` +
      `try \`npm run unipic -- info ${modelDir}\` or UniPic.load('${modelDir}')\n`,
  );
}
