import { convertModel, registerConverter } from '../../convert/family/converter-registry.js';
import { unipic1Converter } from '../../families/unipic1/converter.js';
import type { GraphDtype } from '../../convert/graphs/weights.js';
import { makeTinyCheckpoint } from '../../families/unipic1/convert/tiny/make-tiny.js';
import { numberOption, parse, UsageError } from '../arguments.js';
import { createProgressBar, formatBytes } from '../progress-bar.js';

const DTYPES: readonly GraphDtype[] = ['fp32', 'fp16', 'q4', 'q4f16'];

registerConverter(unipic1Converter);

export async function convertCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values, positionals } = parse(args, { dtype: { type: 'string' }, resolutions: { type: 'string' }, name: { type: 'string' }, 'fused-sampler': { type: 'boolean' }, family: { type: 'string' } }, 2);
  const dtypes = (values.dtype ?? 'fp32').split(',').map((d) => d.trim()) as GraphDtype[];
  for (const dtype of dtypes) if (!DTYPES.includes(dtype)) throw new UsageError(`--dtype must be among ${DTYPES.join(', ')}, got "${dtype}"`);
  const resolutions = values.resolutions?.split(',').map((r) => numberOption(r.trim(), 'resolutions') as number);
  const [checkpoint, out] = positionals;
  const bar = createProgressBar('convert');
  let summary;
  try {
    // The family is detected from the checkpoint (UniPic-1's official folder) unless --family names it.
    summary = await convertModel(checkpoint, out, {
      dtypes,
      ...(values.family ? { family: values.family } : {}),
      ...(resolutions ? { resolutions } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values['fused-sampler'] ? { fusedSampler: true } : {}),
      signal,
      onProgress: (event) => bar.update(event.done, event.total, `${event.stage} ${event.item}`),
    });
  } finally {
    bar.stop();
  }
  for (const warning of summary.warnings) process.stderr.write(`warning: ${warning}\n`);
  const sizes = new Map(summary.manifest.files.map((f) => [f.path, f.size]));
  process.stdout.write(`graph            dtype   size\n`);
  for (const [graph, variants] of Object.entries(summary.manifest.graphs)) {
    for (const [dtype, variant] of Object.entries(variants ?? {})) {
      if (!variant) continue;
      const bytes = [variant.file, ...variant.externalData].reduce((sum, path) => sum + (sizes.get(path) ?? 0), 0);
      process.stdout.write(`${graph.padEnd(16)} ${dtype.padEnd(7)} ${formatBytes(bytes)}\n`);
    }
  }
  const total = summary.manifest.files.reduce((sum, f) => sum + f.size, 0);
  process.stdout.write(`${summary.manifest.files.length} files, ${formatBytes(total)} in ${out} (${(summary.ms / 1000).toFixed(1)} s); ${summary.keys?.ignored.length ?? 0} checkpoint keys knowingly ignored\n`);
}

export async function makeTinyCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { seed: { type: 'string' } }, 1);
  const seed = numberOption(values.seed, 'seed');
  await makeTinyCheckpoint(positionals[0], seed === undefined ? {} : { seed });
  process.stdout.write(`${positionals[0]}\n`);
}
