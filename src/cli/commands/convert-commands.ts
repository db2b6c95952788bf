import { type Dtype, KV_CACHE_KINDS, type KvCacheKind } from '../../spec/manifest.js';
import { convertModel, registerConverter } from '../../convert/family/converter-registry.js';
import { isHubId } from '../../core/hub/hub-id.js';
import { unipic1Converter } from '../../families/unipic1/converter.js';
import { makeTinyCheckpoint } from '../../families/unipic1/convert/tiny/make-tiny.js';
import { detectMetaquery } from '../../families/unipic2-metaquery/convert/convert-metaquery.js';
import { convertMetaqueryModel, metaqueryConverter } from '../../families/unipic2-metaquery/converter.js';
import { makeTinyMetaquery } from '../../families/unipic2-metaquery/convert/tiny/make-tiny-metaquery.js';
import { writeFile } from 'node:fs/promises';
import { numberOption, parse, UsageError } from '../arguments.js';
import { RANGES } from '../command-help.js';
import { createProgressBar, formatBytes } from '../progress-bar.js';
import { makeTinyKontextCheckpoint } from '../../families/unipic2-kontext/convert/tiny-kontext.js';
import { makeTinyUnipic3 } from '../../families/unipic3/convert/tiny/make-tiny-unipic3.js';
import { kontextConverter } from '../../families/unipic2-kontext/converter.js';

const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q4', 'q4f16', 'q8'];

registerConverter(unipic1Converter);
registerConverter(kontextConverter);
registerConverter(metaqueryConverter);

export async function convertCommand(args: string[], signal: AbortSignal): Promise<void> {
  const { values, positionals } = parse(
    args,
    {
      dtype: { type: 'string' },
      resolutions: { type: 'string' },
      name: { type: 'string' },
      'fused-sampler': { type: 'boolean' },
      'kv-cache': { type: 'string' },
      family: { type: 'string' },
      report: { type: 'string' },
      vlm: { type: 'string' },
      'text-encoder': { type: 'string' },
    },
    2,
  );
  // A Skywork UniPic2-Metaquery folder (conditioner/ beside the transformer, VAE and scheduler):
  // converted with the family's own flags (--vlm; --dtype <llm>[,<vision/conditioner/transformer>]).
  // An hf: id goes through the registry, which fetches what the family needs (MetaQuery: --vlm too).
  const fromHub = isHubId(positionals[0]);
  if (!fromHub && (values.family === 'unipic2-metaquery' || (values.family === undefined && (await detectMetaquery(positionals[0])) !== undefined))) {
    for (const flag of ['resolutions', 'fused-sampler', 'kv-cache', 'report'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to a UniPic2-Metaquery folder`);
    return convertMetaqueryCommand(positionals[0], positionals[1], values.vlm, values.dtype, values.name);
  }
  if (values.vlm && !fromHub) throw new UsageError('--vlm applies to UniPic2-Metaquery checkpoints (with a conditioner/ folder) only');
  // Without --dtype each family writes its default (fp32; MetaQuery's language model q4).
  const dtypes = values.dtype?.split(',').map((d) => d.trim()) as Dtype[] | undefined;
  for (const dtype of dtypes ?? []) if (!DTYPES.includes(dtype)) throw new UsageError(`--dtype must be among ${DTYPES.join(', ')}, got "${dtype}"`);
  const kvCache = values['kv-cache'] as KvCacheKind | undefined;
  if (kvCache !== undefined && !KV_CACHE_KINDS.includes(kvCache)) throw new UsageError(`--kv-cache must be ${KV_CACHE_KINDS.join(' or ')}, got "${kvCache}"`);
  const resolutions = values.resolutions?.split(',').map((r) => numberOption(r.trim(), 'resolutions', RANGES.resolutions) as number);
  const [checkpoint, out] = positionals;
  // An hf: checkpoint is fetched first (bytes, per file and in total), then converted.
  const download = fromHub ? createProgressBar('download') : undefined;
  let bar: ReturnType<typeof createProgressBar> | undefined;
  let summary;
  try {
    // The family is detected from the checkpoint (UniPic-1's official folder) unless --family names it.
    // --vlm only means something to MetaQuery: with an hf: id it names the family, so another
    // family's repository fails on the missing conditioner instead of ignoring the flag.
    const family = values.family ?? (values.vlm ? 'unipic2-metaquery' : undefined);
    summary = await convertModel(checkpoint, out, {
      ...(dtypes ? { dtypes } : {}),
      ...(values.vlm ? { vlm: values.vlm } : {}),
      ...(family ? { family } : {}),
      ...(resolutions ? { resolutions } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values['fused-sampler'] ? { fusedSampler: true } : {}),
      ...(kvCache ? { kvCache } : {}),
      ...(values['text-encoder'] ? { textEncoder: values['text-encoder'] } : {}),
      signal,
      onDownloadProgress: (event) =>
        download?.update(event.loaded, event.total, `${event.phase} ${event.file} ${formatBytes(event.fileLoaded)}/${formatBytes(event.fileTotal)}`),
      onProgress: (event) => {
        if (!bar) {
          download?.stop();
          bar = createProgressBar('convert');
        }
        bar.update(event.done, event.total, `${event.stage} ${event.item}`);
      },
    });
  } finally {
    download?.stop();
    bar?.stop();
  }
  for (const fetched of summary.fetched ?? []) {
    process.stderr.write(`hf:${fetched.repo}@${fetched.revision} is commit ${fetched.commit}; files in ${fetched.directory}\n`);
  }
  for (const warning of summary.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (summary.removed && summary.removed.length > 0) {
    process.stderr.write(
      `removed ${summary.removed.length} file(s) of the previous conversion in ${out} that the new unipic.json does not list (${summary.removed.slice(0, 3).join(', ')}${summary.removed.length > 3 ? ', …' : ''}); files it never listed were left alone\n`,
    );
  }
  const sizes = new Map(summary.manifest.files.map((f) => [f.path, f.size]));
  process.stdout.write(`graph            dtype   size\n`);
  for (const [graph, variants] of Object.entries(summary.manifest.graphs)) {
    for (const [dtype, variant] of Object.entries(variants ?? {})) {
      if (!variant) continue;
      const bytes = [variant.file, ...variant.externalData].reduce((sum, path) => sum + (sizes.get(path) ?? 0), 0);
      process.stdout.write(`${graph.padEnd(16)} ${dtype.padEnd(7)} ${formatBytes(bytes)}\n`);
    }
  }
  if (values.report) {
    // The conversion report: every key and config field with what was done with it and why.
    const { keys, structure, config, warnings } = summary;
    await writeFile(
      values.report,
      `${JSON.stringify({ keys: { ignored: keys?.ignored ?? [], required: keys?.required?.length ?? 0 }, structure, config, warnings }, null, 2)}\n`,
    );
  }
  const total = summary.manifest.files.reduce((sum, f) => sum + f.size, 0);
  const ignored = `${summary.keys?.ignored.length ?? 0} checkpoint keys and ${summary.config?.ignored.length ?? 0} config fields knowingly ignored`;
  process.stdout.write(
    `${summary.manifest.files.length} files, ${formatBytes(total)} in ${out} (${(summary.ms / 1000).toFixed(1)} s); ${ignored}${values.report ? ` (reasons in ${values.report})` : ''}\n`,
  );
}

export async function makeTinyCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { seed: { type: 'string' }, family: { type: 'string' } }, 1);
  const seed = numberOption(values.seed, 'seed', RANGES.seed);
  const family = values.family ?? 'unipic1';
  if (family === 'unipic2-metaquery') await makeTinyMetaquery(positionals[0], seed === undefined ? {} : { seed });
  else if (family === 'unipic2-kontext') await makeTinyKontextCheckpoint(positionals[0], seed === undefined ? {} : { seed });
  else if (family === 'unipic3') await makeTinyUnipic3(positionals[0], seed === undefined ? {} : { seed });
  else if (family === 'unipic1') await makeTinyCheckpoint(positionals[0], seed === undefined ? {} : { seed });
  else throw new UsageError(`--family must be unipic1, unipic2-kontext, unipic2-metaquery or unipic3, got "${family}"`);
  process.stdout.write(`${positionals[0]}\n`);
}

/**
 * `--dtype <llm>[,<rest>]` here: the language model's precision (default q4), then that of the
 * vision tower, conditioner and Kontext transformer (default fp32; the VAE stays fp32).
 */
async function convertMetaqueryCommand(
  skyworkFolder: string,
  out: string,
  vlm: string | undefined,
  dtype: string | undefined,
  name: string | undefined,
): Promise<void> {
  const dtypes = (dtype ?? 'q4').split(',').map((d) => d.trim()) as Dtype[];
  if (dtypes.length > 2 || dtypes.some((d) => !DTYPES.includes(d)))
    throw new UsageError(`--dtype for a Metaquery folder is <llm>[,<vision/conditioner/transformer>], each one of ${DTYPES.join(', ')}; got "${dtype}"`);
  const result = await convertMetaqueryModel(skyworkFolder, out, { dtypes, ...(vlm ? { vlm } : {}), ...(name ? { name } : {}) });
  for (const graph of result.graphs)
    process.stdout.write(`${graph.graph.padEnd(16)} ${graph.dtype.padEnd(7)} ${formatBytes(graph.bytes)} (${(graph.ms / 1000).toFixed(1)} s)\n`);
  for (const warning of result.warnings) process.stderr.write(`note: ${warning}\n`);
  process.stdout.write(`UniPic2-Metaquery (VLM side) written to ${out} in ${(result.ms / 1000).toFixed(1)} s\n`);
}
