import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { StructureNeededError } from '../../../errors/structure-needed-error.js';
import { checkpointConfigSchema, UNIPIC_1_5B, type CheckpointConfig } from './checkpoint-config.js';

/** Where a structure number came from, for the conversion report. */
export type CheckpointConfigSource = 'shapes' | 'qwen-config' | 'side-config' | 'unipic-1.5b';

export interface StructureField {
  /** `section.field`, snake_case as in `unipic-config.json`. */
  readonly field: string;
  readonly value: unknown;
  readonly source: CheckpointConfigSource;
  /** Why a default applies (only for `unipic-1.5b`). */
  readonly why?: string;
}

export interface CheckpointConfigInputs {
  /** Unified tensor name → shape. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Structure numbers from the Qwen folder's config.json (already reduced to structure fields). */
  readonly qwen?: Partial<CheckpointConfig['llm']>;
  /** `unipic-config.json` (partial or full) or `ConvertOptions.structure`. */
  readonly side?: DeepPartial<CheckpointConfig>;
  /** Where a side config would be written, for the message asking for one. */
  readonly sideConfigPath: string;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

type Section = 'llm' | 'mar' | 'diffloss' | 'vae';
type Candidate = { source: CheckpointConfigSource; value: unknown; evidence?: string };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** `prefix.N.` indices present → N+1 of the largest (0 when none). */
function countIndexed(shapes: ReadonlyMap<string, readonly number[]>, prefix: string): number | undefined {
  let count: number | undefined;
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.`);
  for (const key of shapes.keys()) {
    const match = pattern.exec(key);
    if (match) count = Math.max(count ?? 0, Number(match[1]) + 1);
  }
  return count;
}

/**
 * The structure of a UniPic-1 checkpoint, from what states it, in this order of authority:
 * tensor shapes (widths, depths, vocabulary, buffer size, grid, MLP ratio, VAE channel
 * multipliers...), then the Qwen `config.json` (head counts, RoPE, norms, the head tie), then the
 * side config. Two sources that disagree are refused; numbers nothing states take UniPic-1's
 * config constants (diffusion schedule, VAE scale, LayerNorm epsilon), or UniPic-1.5B's head
 * counts / GroupNorm groups for a component whose shapes are exactly 1.5B's. Anything else open
 * throws `StructureNeededError` naming the fields and the file to write.
 */
export function inferCheckpointConfig(inputs: CheckpointConfigInputs): { structure: CheckpointConfig; fields: StructureField[] } {
  const { shapes } = inputs;
  const shape = (key: string) => shapes.get(key);
  const dim = (key: string, axis: number) => shape(key)?.[axis];
  const fields: StructureField[] = [];
  const conflicts: string[] = [];
  const needed: string[] = [];
  const result: Record<Section, Record<string, unknown>> = { llm: {}, mar: {}, diffloss: {}, vae: {} };
  const side = (section: Section, field: string) => (inputs.side?.[section] as Record<string, unknown> | undefined)?.[field];

  const resolve = (section: Section, field: string, fromShapes: unknown, fallback?: { value: unknown; why: string }, evidence?: string): unknown => {
    const candidates: Candidate[] = [];
    if (fromShapes !== undefined) candidates.push({ source: 'shapes', value: fromShapes, evidence });
    if (section === 'llm' && inputs.qwen?.[field as keyof CheckpointConfig['llm']] !== undefined) {
      candidates.push({ source: 'qwen-config', value: inputs.qwen[field as keyof CheckpointConfig['llm']] });
    }
    if (side(section, field) !== undefined) candidates.push({ source: 'side-config', value: side(section, field) });
    const path = `${section}.${field}`;
    const first = candidates[0];
    if (first) {
      const disagreeing = candidates.find((c) => !same(c.value, first.value));
      if (disagreeing) {
        conflicts.push(`${path}: ${describe(first)} but ${describe(disagreeing)}`);
      }
      result[section][field] = first.value;
      fields.push({ field: path, value: first.value, source: first.source });
      return first.value;
    }
    if (fallback) {
      result[section][field] = fallback.value;
      fields.push({ field: path, value: fallback.value, source: 'unipic-1.5b', why: fallback.why });
      return fallback.value;
    }
    needed.push(path);
    return undefined;
  };
  const constant = (section: Section, field: string) => ({
    value: (UNIPIC_1_5B[section] as Record<string, unknown>)[field],
    why: 'a UniPic-1 config constant that no tensor states',
  });
  const as1_5b = (section: Section, field: string, matches: boolean, what: string) =>
    matches ? { value: (UNIPIC_1_5B[section] as Record<string, unknown>)[field], why: `${what} has UniPic-1.5B's shapes` } : undefined;

  // ---- VAE (first: the MAR grid needs its stride) ----
  const ch = dim('vae.encoder.conv_in.weight', 0);
  const levels = countIndexed(shapes, 'vae.encoder.down');
  const blocks = countIndexed(shapes, 'vae.encoder.down.0.block');
  const chMult =
    ch && levels
      ? Array.from({ length: levels }, (_, level) => {
          const out = dim(`vae.encoder.down.${level}.block.0.conv2.weight`, 0);
          return out !== undefined && out % ch === 0 ? out / ch : undefined;
        })
      : undefined;
  const attnLevels = levels ? Array.from({ length: levels }, (_, l) => l).filter((l) => shapes.has(`vae.encoder.down.${l}.attn.0.norm.weight`)) : [];
  if (attnLevels.length > 1)
    conflicts.push(`vae: attention blocks at encoder levels ${attnLevels.join(', ')}; unipic supports one level (LDM's attn_resolutions=(16,))`);
  resolve('vae', 'ch', ch);
  const mult = resolve('vae', 'ch_mult', chMult?.every((m) => m !== undefined) ? chMult : undefined) as number[] | undefined;
  resolve('vae', 'num_res_blocks', blocks);
  resolve('vae', 'z_channels', dim('vae.decoder.conv_in.weight', 1));
  resolve('vae', 'embed_dim', dim('vae.post_quant_conv.weight', 1));
  resolve('vae', 'attn_resolution_level', attnLevels.length === 1 ? attnLevels[0] : undefined);
  const vaeIs1_5b = ch === 128 && same(chMult, UNIPIC_1_5B.vae.ch_mult) && blocks === UNIPIC_1_5B.vae.num_res_blocks;
  resolve('vae', 'norm_num_groups', undefined, as1_5b('vae', 'norm_num_groups', vaeIs1_5b, 'the VAE'));
  resolve('vae', 'scale', undefined, constant('vae', 'scale'));

  // ---- MAR ----
  const we = dim('mar.z_proj.weight', 0);
  const wd = dim('mar.decoder_embed.weight', 0);
  const encoderDepth = countIndexed(shapes, 'mar.encoder_blocks');
  const decoderDepth = countIndexed(shapes, 'mar.decoder_blocks');
  const positions = dim('mar.diffusion_pos_embed_learned', 1);
  const grid = positions !== undefined && Number.isInteger(Math.sqrt(positions)) ? Math.sqrt(positions) : undefined;
  if (positions !== undefined && grid === undefined) conflicts.push(`mar.diffusion_pos_embed_learned has ${positions} rows, not a square grid`);
  const encoderRows = dim('mar.encoder_pos_embed_learned', 1);
  const stride = mult ? 2 ** (mult.length - 1) : undefined;
  const ratio = (key: string, width: number | undefined) => {
    const hidden = dim(key, 0);
    return hidden !== undefined && width ? hidden / width : undefined;
  };
  const encoderRatio = ratio('mar.encoder_blocks.0.mlp.fc1.weight', we);
  const decoderRatio = ratio('mar.decoder_blocks.0.mlp.fc1.weight', wd);
  if (encoderRatio !== undefined && decoderRatio !== undefined && encoderRatio !== decoderRatio) {
    conflicts.push(`mar.mlp_ratio: the encoder's MLP is ${encoderRatio}× wide, the decoder's ${decoderRatio}× (MAR has one mlp_ratio)`);
  }
  resolve('mar', 'vae_stride', stride);
  resolve('mar', 'patch_size', undefined, constant('mar', 'patch_size'));
  resolve('mar', 'img_size', grid !== undefined && stride ? grid * stride : undefined);
  resolve('mar', 'encoder_embed_dim', we);
  resolve('mar', 'encoder_depth', encoderDepth);
  resolve('mar', 'decoder_embed_dim', wd);
  resolve('mar', 'decoder_depth', decoderDepth);
  resolve('mar', 'mlp_ratio', encoderRatio ?? decoderRatio);
  resolve('mar', 'buffer_size', encoderRows !== undefined && positions !== undefined ? encoderRows - positions : undefined);
  resolve('mar', 'token_embed_dim', dim('mar.z_proj.weight', 1));
  resolve('mar', 'layer_norm_eps', undefined, constant('mar', 'layer_norm_eps'));
  resolve('mar', 'class_num', dim('mar.class_emb.weight', 0), constant('mar', 'class_num'));
  const encoderIs1_5b = we === UNIPIC_1_5B.mar.encoder_embed_dim && encoderDepth === UNIPIC_1_5B.mar.encoder_depth;
  const decoderIs1_5b = wd === UNIPIC_1_5B.mar.decoder_embed_dim && decoderDepth === UNIPIC_1_5B.mar.decoder_depth;
  resolve('mar', 'encoder_num_heads', undefined, as1_5b('mar', 'encoder_num_heads', encoderIs1_5b, 'the MAR encoder'));
  resolve('mar', 'decoder_num_heads', undefined, as1_5b('mar', 'decoder_num_heads', decoderIs1_5b, 'the MAR decoder'));

  // ---- diffusion head ----
  resolve('diffloss', 'width', dim('mar.diffloss.net.input_proj.weight', 0));
  resolve('diffloss', 'depth', countIndexed(shapes, 'mar.diffloss.net.res_blocks'));
  resolve('diffloss', 'target_channels', dim('mar.diffloss.net.input_proj.weight', 1));
  resolve('diffloss', 'z_channels', dim('mar.diffloss.net.cond_embed.weight', 1));
  for (const field of ['num_sampling_steps', 'num_timesteps', 'noise_schedule', 'max_beta']) resolve('diffloss', field, undefined, constant('diffloss', field));

  // ---- LLM ----
  const hidden = dim('llm.model.embed_tokens.weight', 1);
  const layers = countIndexed(shapes, 'llm.model.layers');
  const llmIs1_5b = hidden === UNIPIC_1_5B.llm.hidden_size && layers === UNIPIC_1_5B.llm.num_hidden_layers;
  const noQwen = inputs.qwen === undefined;
  const llmDefault = (field: keyof CheckpointConfig['llm']) =>
    noQwen && llmIs1_5b ? { value: UNIPIC_1_5B.llm[field], why: "no Qwen config.json; the LLM has Qwen2.5-1.5B's shapes" } : undefined;
  resolve('llm', 'hidden_size', hidden);
  resolve('llm', 'vocab_size', dim('llm.model.embed_tokens.weight', 0));
  resolve('llm', 'num_hidden_layers', layers);
  resolve('llm', 'intermediate_size', dim('llm.model.layers.0.mlp.gate_proj.weight', 0));
  const heads = resolve('llm', 'num_attention_heads', undefined, llmDefault('num_attention_heads')) as number | undefined;
  const kvRows = dim('llm.model.layers.0.self_attn.k_proj.weight', 0);
  const headDim = hidden && heads ? hidden / heads : undefined;
  const kvFromShapes = kvRows !== undefined && headDim && Number.isInteger(kvRows / headDim) ? kvRows / headDim : undefined;
  if (kvRows !== undefined && headDim && kvFromShapes === undefined) conflicts.push(`llm: k_proj has ${kvRows} rows, not a multiple of the head width ${headDim}`);
  resolve(
    'llm',
    'num_key_value_heads',
    kvFromShapes,
    llmDefault('num_key_value_heads'),
    `llm.model.layers.0.self_attn.k_proj.weight: [${shape('llm.model.layers.0.self_attn.k_proj.weight')?.join(', ')}]`,
  );
  for (const field of ['rope_theta', 'rms_norm_eps', 'max_position_embeddings', 'tie_word_embeddings'] as const) {
    resolve('llm', field, undefined, llmDefault(field));
  }
  for (const field of ['bos_token_id', 'eos_token_id'] as const) {
    const value = side('llm', field) ?? inputs.qwen?.[field];
    if (value !== undefined) result.llm[field] = value;
  }

  if (conflicts.length) {
    throw new InvalidModelError(`the checkpoint contradicts its configuration: ${conflicts.join('; ')}`, { details: { conflicts } });
  }
  if (needed.length) throw structureNeeded(needed, inputs.sideConfigPath);
  const resolutions = inputs.side?.resolutions ?? [result.mar.img_size as number, 2 * (result.mar.img_size as number)];
  fields.push({
    field: 'resolutions',
    value: resolutions,
    source: inputs.side?.resolutions ? 'side-config' : 'unipic-1.5b',
    why: 'the native size and twice it, as UniPic-1.5B (512, 1024)',
  });
  const parsed = checkpointConfigSchema.safeParse({ ...result, resolutions });
  if (!parsed.success) {
    throw new InvalidModelError(`the checkpoint's structure is not usable: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  checkDivisible(parsed.data);
  return { structure: parsed.data, fields };
}

function describe(candidate: Candidate): string {
  const where = {
    shapes: 'the tensor shapes say',
    'qwen-config': 'the Qwen config.json says',
    'side-config': 'unipic-config.json says',
    'unipic-1.5b': 'UniPic-1.5B has',
  }[candidate.source];
  return `${where} ${JSON.stringify(candidate.value)}${candidate.evidence ? ` (${candidate.evidence})` : ''}`;
}

/** Head counts must split their widths, and the parts must fit together. */
function checkDivisible(s: CheckpointConfig): void {
  const problems = [
    [s.llm.hidden_size, s.llm.num_attention_heads, 'llm.num_attention_heads'],
    [s.llm.num_attention_heads, s.llm.num_key_value_heads, 'llm.num_key_value_heads'],
    [s.mar.encoder_embed_dim, s.mar.encoder_num_heads, 'mar.encoder_num_heads'],
    [s.mar.decoder_embed_dim, s.mar.decoder_num_heads, 'mar.decoder_num_heads'],
    [s.vae.ch, s.vae.norm_num_groups, 'vae.norm_num_groups'],
  ].filter(([width, parts]) => (width as number) % (parts as number) !== 0);
  if (problems.length) {
    throw new InvalidModelError(`head or group counts do not divide their widths: ${problems.map(([w, p, f]) => `${f} = ${p} for ${w}`).join('; ')}`);
  }
  // The official classes tie these together (MAR builds DiffLoss with z_channels = decoder width,
  // token width = VAE latent channels × patch²); weights that break a tie come from other code.
  const ties = [
    [s.diffloss.z_channels, s.mar.decoder_embed_dim, 'diffloss.z_channels', 'mar.decoder_embed_dim'],
    [s.diffloss.target_channels, s.mar.token_embed_dim, 'diffloss.target_channels', 'mar.token_embed_dim'],
    [s.mar.token_embed_dim, s.vae.embed_dim, 'mar.token_embed_dim', 'vae.embed_dim'],
  ].filter(([a, b]) => a !== b);
  if (ties.length) {
    throw new InvalidModelError(`the checkpoint's parts do not fit together: ${ties.map(([a, b, fa, fb]) => `${fa} ${a} ≠ ${fb} ${b}`).join('; ')}`);
  }
}

function structureNeeded(fields: readonly string[], file: string): StructureNeededError {
  const example: Record<string, Record<string, unknown>> = {};
  for (const path of fields) {
    const [section, field] = path.split('.') as [string, string];
    example[section] ??= {};
    example[section][field] = null;
  }
  const json = JSON.stringify(example, null, 2);
  return new StructureNeededError(
    `no tensor shape or config file states ${fields.join(', ')} (the official code takes them from its model config). ` +
      `Write them into ${file}, replacing each null with the value your checkpoint was built with:\n${json}`,
    { details: { fields, file, example } },
  );
}
