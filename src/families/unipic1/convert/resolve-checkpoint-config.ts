import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { GenerationDefaults } from '../../../spec/manifest.js';
import { mergeAccounts, type ConfigAccount } from '../../../convert/config-account.js';
import { QWEN2_5_INSTRUCT_GENERATION, readGenerationConfig, TRANSFORMERS_GENERATION_DEFAULTS } from './generation-config.js';
import { inferCheckpointConfig, type DeepPartial, type StructureField } from './infer-checkpoint-config.js';
import { readQwenConfig } from './qwen-config.js';
import { readJsonFile } from '../../../convert/readers/json-file.js';
import { sideConfigSchema } from './side-config.js';
import type { CheckpointConfig } from './checkpoint-config.js';

/** The file a checkpoint folder may carry to state what its shapes cannot (make-tiny writes a full one). */
export const STRUCTURE_FILE = 'unipic-config.json';
export const LLM_FOLDER = 'Qwen2.5-1.5B-Instruct';
const GENERATION_FILE = 'generation_config.json';
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface ResolvedConfiguration {
  readonly structure: CheckpointConfig;
  /** Where each structure number came from. */
  readonly fields: readonly StructureField[];
  /** Every field of every config file read: used, or ignored with the reason. */
  readonly config: ConfigAccount;
  /** For the manifest: what `understand` uses unless a call overrides it. */
  readonly generation: GenerationDefaults;
}

/**
 * Everything the converter takes from a checkpoint besides weights: the structure (inferred from
 * the tensor shapes, the Qwen config.json and `unipic-config.json`, see `inferCheckpointConfig`) and the
 * text-generation defaults (the Qwen folder's generation_config.json, as transformers' `generate`
 * inherits them in the official code). Every config field is accounted for or refused.
 */
export async function resolveConfiguration(
  checkpointDir: string,
  inputs: {
    readonly shapes: ReadonlyMap<string, readonly number[]>;
    readonly llmConfig: Readonly<Record<string, unknown>> | undefined;
    readonly structure?: CheckpointConfig;
    readonly isFolder: boolean;
  },
  warnings: string[],
): Promise<ResolvedConfiguration> {
  const accounts: ConfigAccount[] = [];
  const qwenFile = `${LLM_FOLDER}/config.json`;
  let qwen: Partial<CheckpointConfig['llm']> | undefined;
  if (inputs.llmConfig) {
    const read = readQwenConfig(inputs.llmConfig, qwenFile);
    qwen = read.llm;
    accounts.push(read.account);
  } else if (!inputs.structure) {
    warnings.push('no Qwen config.json found: assuming the Qwen2.5-1.5B dimensions');
  }

  let side: DeepPartial<CheckpointConfig> | undefined = inputs.structure;
  const sidePath = join(inputs.isFolder ? checkpointDir : join(checkpointDir, '..'), STRUCTURE_FILE);
  if (!side && inputs.isFolder && existsSync(sidePath)) {
    const parsed = sideConfigSchema.safeParse(await readJsonFile(sidePath, MAX_CONFIG_BYTES));
    if (!parsed.success) {
      throw new InvalidModelError(`${sidePath} is not a valid structure file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const { seed, _comment, ...structure } = parsed.data;
    side = structure;
    accounts.push({
      used: Object.entries(structure).flatMap(([section, value]) =>
        Array.isArray(value) || typeof value !== 'object'
          ? [{ file: STRUCTURE_FILE, field: section }]
          : Object.keys(value).map((field) => ({ file: STRUCTURE_FILE, field: `${section}.${field}` })),
      ),
      ignored: [
        ...(seed === undefined ? [] : [{ file: STRUCTURE_FILE, field: 'seed', why: 'the random seed make-tiny drew the weights with; not a model property' }]),
        ...(_comment === undefined ? [] : [{ file: STRUCTURE_FILE, field: '_comment', why: 'a comment' }]),
      ],
    });
  }
  if (inputs.structure && inputs.isFolder && existsSync(sidePath)) {
    accounts.push({
      used: [],
      ignored: [{ file: STRUCTURE_FILE, field: '*', why: 'ConvertOptions.structure was given and takes its place (it is checked against the shapes the same way)' }],
    });
  }
  const { structure, fields } = inferCheckpointConfig({ shapes: inputs.shapes, qwen, side, sideConfigPath: sidePath });

  let generation: GenerationDefaults;
  const generationPath = join(checkpointDir, LLM_FOLDER, GENERATION_FILE);
  if (inputs.isFolder && existsSync(generationPath)) {
    const json = await readJsonFile(generationPath, MAX_CONFIG_BYTES);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidModelError(`${generationPath} is not a JSON object`);
    const read = readGenerationConfig(json as Record<string, unknown>, `${LLM_FOLDER}/${GENERATION_FILE}`);
    generation = read.defaults;
    accounts.push(read.account);
  } else if (inputs.llmConfig) {
    generation = TRANSFORMERS_GENERATION_DEFAULTS;
    warnings.push(
      `no ${LLM_FOLDER}/${GENERATION_FILE}: transformers' defaults apply, as in the official code (repetition penalty 1, temperature 1, top-k 50, top-p 1)`,
    );
  } else {
    generation = QWEN2_5_INSTRUCT_GENERATION;
    warnings.push(`no ${LLM_FOLDER} folder: assuming Qwen2.5-1.5B-Instruct's ${GENERATION_FILE} (repetition penalty 1.1)`);
  }
  return { structure, fields, config: mergeAccounts(...accounts), generation };
}
