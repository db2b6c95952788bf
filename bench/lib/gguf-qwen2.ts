import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledTokenizerDir } from '../../src/convert/bundled-assets.js';
import type { WeightSource } from '../../src/convert/graphs/weights.js';
import type { CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { writeGguf, type GgmlType, type GgufTensor, type GgufValue } from './gguf-writer.js';

/** GGUF `general.file_type` (llama_ftype) per weight type. */
const FILE_TYPE: Record<GgmlType, number> = { F32: 0, F16: 1, Q4_0: 2 };
/** llama_token_type: NORMAL 1, CONTROL 3, USER_DEFINED 4. */
const TOKEN = { normal: 1, control: 3, userDefined: 4 } as const;

/**
 * The decode benchmark's Qwen2.5 LLM as a llama.cpp GGUF (architecture `qwen2`, tied output): the
 * same seeded weights our ONNX graphs read, under llama.cpp's tensor names. Matrices are stored as
 * `matrixType` (Q4_0 or F16/F32), norms and biases float32 as llama-quantize keeps them. Rows stay
 * as the checkpoint lays them out ([out, in] row-major is ggml's ne = [in, out]); qwen2 uses NEOX
 * (rotate-half) RoPE in llama.cpp, so q/k need no permutation. The vocabulary is the bundled Qwen2.5
 * tokenizer padded to the embedding's rows, as convert_hf_to_gguf pads it; the benchmark feeds token
 * ids, never text.
 */
export async function writeQwen2Gguf(path: string, structure: CheckpointConfig, weights: WeightSource, matrixType: GgmlType): Promise<number> {
  const llm = structure.llm;
  const tensor = (name: string, key: string, type: GgmlType = matrixType): GgufTensor => {
    const shape = weights.shape(key);
    return { name, shape, type: shape.length === 1 ? 'F32' : type, values: () => weights.float32(key) };
  };
  const tensors: GgufTensor[] = [tensor('token_embd.weight', 'llm.model.embed_tokens.weight'), tensor('output_norm.weight', 'llm.model.norm.weight')];
  for (let i = 0; i < llm.num_hidden_layers; i++) {
    const p = `llm.model.layers.${i}`;
    tensors.push(
      tensor(`blk.${i}.attn_norm.weight`, `${p}.input_layernorm.weight`),
      tensor(`blk.${i}.attn_q.weight`, `${p}.self_attn.q_proj.weight`),
      tensor(`blk.${i}.attn_q.bias`, `${p}.self_attn.q_proj.bias`),
      tensor(`blk.${i}.attn_k.weight`, `${p}.self_attn.k_proj.weight`),
      tensor(`blk.${i}.attn_k.bias`, `${p}.self_attn.k_proj.bias`),
      tensor(`blk.${i}.attn_v.weight`, `${p}.self_attn.v_proj.weight`),
      tensor(`blk.${i}.attn_v.bias`, `${p}.self_attn.v_proj.bias`),
      tensor(`blk.${i}.attn_output.weight`, `${p}.self_attn.o_proj.weight`),
      tensor(`blk.${i}.ffn_norm.weight`, `${p}.post_attention_layernorm.weight`),
      tensor(`blk.${i}.ffn_gate.weight`, `${p}.mlp.gate_proj.weight`),
      tensor(`blk.${i}.ffn_up.weight`, `${p}.mlp.up_proj.weight`),
      tensor(`blk.${i}.ffn_down.weight`, `${p}.mlp.down_proj.weight`),
    );
  }
  const vocab = await qwenVocabulary(llm.vocab_size);
  const metadata: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: 'qwen2' }],
    ['general.name', { type: 'string', value: 'unipic-bench-synthetic-qwen2.5-1.5b' }],
    ['general.file_type', { type: 'u32', value: FILE_TYPE[matrixType] }],
    ['qwen2.context_length', { type: 'u32', value: llm.max_position_embeddings ?? 32768 }],
    ['qwen2.embedding_length', { type: 'u32', value: llm.hidden_size }],
    ['qwen2.block_count', { type: 'u32', value: llm.num_hidden_layers }],
    ['qwen2.feed_forward_length', { type: 'u32', value: llm.intermediate_size }],
    ['qwen2.attention.head_count', { type: 'u32', value: llm.num_attention_heads }],
    ['qwen2.attention.head_count_kv', { type: 'u32', value: llm.num_key_value_heads }],
    ['qwen2.rope.freq_base', { type: 'f32', value: llm.rope_theta }],
    ['qwen2.attention.layer_norm_rms_epsilon', { type: 'f32', value: llm.rms_norm_eps }],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'qwen2' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab.tokens }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: vocab.types }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: vocab.merges }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: llm.bos_token_id ?? 151643 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: llm.eos_token_id ?? 151645 }],
    ['tokenizer.ggml.padding_token_id', { type: 'u32', value: 151643 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ];
  return writeGguf(path, metadata, tensors);
}

async function qwenVocabulary(size: number): Promise<{ tokens: string[]; types: Int32Array; merges: string[] }> {
  const dir = bundledTokenizerDir();
  const vocab = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as {
    added_tokens_decoder: Record<string, { content: string; special: boolean }>;
  };
  const tokens = new Array<string>(size);
  const types = new Int32Array(size).fill(TOKEN.normal);
  for (const [token, id] of Object.entries(vocab)) tokens[id] = token;
  for (const [id, added] of Object.entries(config.added_tokens_decoder)) {
    tokens[Number(id)] = added.content;
    types[Number(id)] = added.special ? TOKEN.control : TOKEN.userDefined;
  }
  for (let id = 0; id < size; id++) {
    if (tokens[id] !== undefined) continue;
    tokens[id] = `[PAD${id}]`;
    types[id] = TOKEN.userDefined;
  }
  const merges = (await readFile(join(dir, 'merges.txt'), 'utf8')).split('\n').filter((line) => line.length > 0 && !line.startsWith('#version'));
  return { tokens, types, merges };
}

/**
 * The GGUF at `path`, written once: a stamp beside it records the structure and type it was built
 * from, and a later run with the same stamp reuses it. Returns the bytes of tensor data.
 */
export async function ensureQwen2Gguf(
  path: string,
  structure: CheckpointConfig,
  weights: WeightSource,
  matrixType: GgmlType,
  log: (line: string) => void,
): Promise<number> {
  const stampPath = `${path}.stamp.json`;
  const stamp = JSON.stringify({ format: 1, llm: structure.llm, matrixType });
  try {
    const saved = JSON.parse(await readFile(stampPath, 'utf8')) as { stamp: string; dataBytes: number };
    if (saved.stamp === stamp) return saved.dataBytes;
  } catch {
    // No stamp yet: write the file.
  }
  const started = Date.now();
  const dataBytes = await writeQwen2Gguf(path, structure, weights, matrixType);
  await writeFile(stampPath, JSON.stringify({ stamp, dataBytes }));
  log(`  wrote ${matrixType} GGUF (${(dataBytes / 1e9).toFixed(2)} GB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dataBytes;
}
