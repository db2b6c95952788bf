/**
 * UniPic2-Metaquery's converter entry (Node only): recognises a Skywork Metaquery folder and converts
 * it (convert/convert-metaquery.ts), then writes `unipic.json` naming this family.
 * Registered by `unipic/convert` and the CLI; the runtime half is runtime.ts.
 */
import type { ConverterFamily, ConvertResult } from '../../convert/family/converter-family.js';
import { fileEntry, writeManifest } from '../../convert/model-folder-writer.js';
import type { Dtype } from '../../spec/manifest.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { convertMetaquery, detectMetaquery, METAQUERY_CONFIG_FILE } from './convert/convert-metaquery.js';
import { METAQUERY_FAMILY, METAQUERY_FAMILY_VERSION, METAQUERY_GRAPHS, metaqueryManifestSchema, type MetaqueryManifest } from './manifest.js';
import { metaqueryHubCheckpoint } from './convert/hub-files.js';
import { generationDefaults } from './runtime/understand-options.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Options beyond the common ones: `vlm` (the Qwen2.5-VL-7B-Instruct folder). `dtypes` is
 * `[language model, rest]`: `dtypes[0]` the precision of embed/llm/lm_head (default q4), `dtypes[1]`
 * that of the vision tower, conditioner and Kontext transformer (default fp32; the VAE is always
 * fp32). One variant per graph: a third entry is refused.
 */
export async function convertMetaqueryModel(
  path: string,
  outDir: string,
  options: { dtypes?: readonly Dtype[]; name?: string; vlm?: string; source?: string } = {},
): Promise<ConvertResult> {
  const started = Date.now();
  const timings: { graph: string; ms: number }[] = [];
  if ((options.dtypes?.length ?? 0) > 2)
    throw new InvalidOptionsError(
      `UniPic2-Metaquery takes at most two dtypes (language model, then vision/conditioner/transformer), got ${options.dtypes!.join(', ')}`,
    );
  const result = await convertMetaquery(path, outDir, {
    llmDtype: options.dtypes?.[0] ?? 'q4',
    ...(options.dtypes?.[1] ? { dtype: options.dtypes[1] } : {}),
    ...(options.vlm ? { vlm: options.vlm } : {}),
    onGraph: (event) => timings.push({ graph: event.graph, ms: event.ms }),
  });
  const description = JSON.parse(await readFile(join(outDir, METAQUERY_CONFIG_FILE), 'utf8')) as {
    processor: MetaqueryManifest['processor'];
    generation: Record<string, unknown>;
    tokenizer: MetaqueryManifest['tokenizer'];
    tables: MetaqueryManifest['tables'];
  };
  const graphs: MetaqueryManifest['graphs'] = {};
  const paths = new Set<string>([METAQUERY_CONFIG_FILE, description.tokenizer.json, description.tokenizer.config, description.tables.metaQueries]);
  for (const name of METAQUERY_GRAPHS) {
    const graph = result.graphs[name];
    if (!graph) continue;
    graphs[name] = { [graph.dtype as Dtype]: { file: graph.file, externalData: graph.externalData } };
    paths.add(graph.file);
    for (const data of graph.externalData) paths.add(data);
  }
  const files = await Promise.all([...paths].map((file) => fileEntry(outDir, file)));
  const manifest = await writeManifest<MetaqueryManifest>(
    outDir,
    {
      family: METAQUERY_FAMILY,
      familyVersion: METAQUERY_FAMILY_VERSION,
      name: options.name ?? 'unipic2-metaquery',
      source: options.source ?? path,
      graphs,
      files,
      config: result.config as MetaqueryManifest['config'],
      processor: description.processor,
      sampling: { ...generationDefaults(description.generation), eosIds: [...result.eosIds] },
      tokenizer: description.tokenizer,
      tables: description.tables,
      ...(result.stripDecoder ? { stripDecoder: result.stripDecoder } : {}),
      ...(result.stripEncoder ? { stripEncoder: result.stripEncoder } : {}),
    },
    metaqueryManifestSchema,
  );
  return {
    manifest,
    graphs: await Promise.all(
      timings.map(async ({ graph, ms }) => {
        const variant = result.graphs[graph as (typeof METAQUERY_GRAPHS)[number]]!;
        return { graph, dtype: variant.dtype as Dtype, bytes: (await fileEntry(outDir, variant.file)).size, ms };
      }),
    ),
    warnings: result.warnings,
    // Every VLM and conditioner key is used (key-plan.ts refuses others); diffusion keys: diffusion-part.ts;
    // config fields: metaquery.json configAccount.
    keys: { ignored: [...(result.diffusionKeys?.ignored ?? [])] },
    ms: Date.now() - started,
  };
}

export const metaqueryConverter: ConverterFamily = {
  id: METAQUERY_FAMILY,
  detect: detectMetaquery,
  hub: metaqueryHubCheckpoint,
  convert: (path, outDir, options) => convertMetaqueryModel(path, outDir, options as { dtypes?: readonly Dtype[]; name?: string; vlm?: string; source?: string }),
};
