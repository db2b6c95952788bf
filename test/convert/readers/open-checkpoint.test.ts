import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/families/unipic1/convert/open-checkpoint.js';
import { writeKl16Checkpoint, writeTorchCheckpoint } from '../../../src/convert/writers/torch-checkpoint-writer.js';
import { PickleEncoder } from '../../../src/convert/writers/pickle-encoder.js';
import { InvalidModelError } from '../../../src/errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../../src/errors/model-not-found-error.js';
import { encodeSafetensors } from '../../../src/formats/safetensors-encoder.js';
import { patternBytes, temporaryFolder, writeZip } from './support/checkpoint-test-helpers.js';

let folder: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  folder = await temporaryFolder();
});
afterEach(async () => {
  await folder.remove();
});

const f32 = (count: number, seed: number): Uint8Array => patternBytes(4 * count, seed);

/** The official layout in miniature: UniPic dict, kl16.ckpt, the Qwen folder, a SigLIP folder, side files. */
async function officialFolder(root: string): Promise<void> {
  const embed = { dtype: 'float32' as const, data: f32(12, 1) };
  await writeTorchCheckpoint(join(root, 'pytorch_model.bin'), [
    ['llm.model.embed_tokens.weight', { dtype: 'float32', shape: [3, 4], storage: embed }],
    ['llm.lm_head.weight', { dtype: 'float32', shape: [3, 4], storage: embed }],
    ['llm.model.norm.weight', { dtype: 'float32', shape: [4], data: f32(4, 2) }],
    ['mar.mask_token', { dtype: 'bfloat16', shape: [1, 1, 4], data: patternBytes(8, 3) }],
  ]);
  await writeKl16Checkpoint(join(root, 'kl16.ckpt'), [['encoder.conv_in.weight', { dtype: 'float32', shape: [2, 3, 1, 1], data: f32(6, 4) }]]);
  const llm = join(root, 'Qwen2.5-1.5B-Instruct');
  await mkdir(llm);
  await writeFile(join(llm, 'config.json'), JSON.stringify({ model_type: 'qwen2', hidden_size: 4 }));
  await writeFile(
    join(llm, 'model.safetensors'),
    encodeSafetensors([
      { name: 'model.norm.weight', dtype: 'bfloat16', shape: [4], data: patternBytes(8, 5) },
      { name: 'model.layers.0.input_layernorm.weight', dtype: 'bfloat16', shape: [4], data: patternBytes(8, 6) },
    ]),
  );
  await writeFile(join(llm, 'tokenizer.json'), '{}');
  await mkdir(join(root, 'siglip2-so400m-patch16-512'));
  await writeFile(join(root, 'README.md'), '# UniPic');
  // A trainer side file is a pickle of arbitrary objects; it must never be opened.
  const evil = new PickleEncoder();
  evil.global('posix', 'system');
  evil.mark();
  evil.string('id');
  evil.tupleFromMark();
  evil.reduce();
  await writeZip(join(root, 'training_args.bin'), [['archive/data.pkl', evil.finish()]]);
}

describe('openCheckpoint on the official folder layout', () => {
  it('unifies the sources with documented prefixes and precedence', async () => {
    await officialFolder(folder.path);
    const checkpoint = await openCheckpoint(folder.path);
    try {
      expect([...checkpoint.tensors.keys()].sort()).toEqual([
        'llm.lm_head.weight',
        'llm.model.embed_tokens.weight',
        'llm.model.layers.0.input_layernorm.weight',
        'llm.model.norm.weight',
        'mar.mask_token',
        'vae.encoder.conv_in.weight',
      ]);
      expect(checkpoint.sources.map(({ role, prefix, format }) => [role, prefix, format])).toEqual([
        ['llm-base', 'llm.', 'safetensors'],
        ['vae', 'vae.', 'pytorch'],
        ['unipic', '', 'pytorch'],
      ]);
      // pytorch_model.bin overrides the Qwen folder's initial weight, as load_state_dict does.
      expect(checkpoint.shadowed).toEqual([
        { name: 'llm.model.norm.weight', kept: join(folder.path, 'pytorch_model.bin'), dropped: join(folder.path, 'Qwen2.5-1.5B-Instruct', 'model.safetensors') },
      ]);
      expect(checkpoint.tensors.get('llm.model.norm.weight')?.dtype).toBe('float32');
      expect(Buffer.from(await checkpoint.readBytes('llm.model.norm.weight')).equals(Buffer.from(f32(4, 2)))).toBe(true);
      expect(Buffer.from(await checkpoint.readBytes('vae.encoder.conv_in.weight')).equals(Buffer.from(f32(6, 4)))).toBe(true);
      expect(checkpoint.tensors.get('vae.encoder.conv_in.weight')?.name).toBe('vae.encoder.conv_in.weight');
      expect(Buffer.from(await checkpoint.readBytes('llm.model.layers.0.input_layernorm.weight')).equals(Buffer.from(patternBytes(8, 6)))).toBe(true);
      expect((await checkpoint.readFloat32('mar.mask_token')).length).toBe(4);
      expect(checkpoint.sharedStorages()).toEqual([['llm.model.embed_tokens.weight', 'llm.lm_head.weight']]);
      expect(checkpoint.llmConfig).toEqual({ model_type: 'qwen2', hidden_size: 4 });
      expect(checkpoint.ignored).toEqual(['Qwen2.5-1.5B-Instruct/tokenizer.json', 'siglip2-so400m-patch16-512/', 'README.md', 'training_args.bin']);
      await expect(checkpoint.readBytes('nope')).rejects.toThrow(InvalidModelError);
    } finally {
      await checkpoint.close();
    }
  });

  it('opens a single file, and a converted .safetensors beside nothing else', async () => {
    await writeKl16Checkpoint(join(folder.path, 'kl16.ckpt'), [['decoder.conv_out.bias', { dtype: 'float32', shape: [3], data: f32(3, 7) }]]);
    const single = await openCheckpoint(join(folder.path, 'kl16.ckpt'));
    expect([...single.tensors.keys()]).toEqual(['vae.decoder.conv_out.bias']);
    await single.close();
    const converted = join(folder.path, 'converted');
    await mkdir(converted);
    await writeFile(join(converted, 'model.safetensors'), encodeSafetensors([{ name: 'mar.fake_latent', dtype: 'float32', shape: [1, 2], data: f32(2, 8) }]));
    const fromSafetensors = await openCheckpoint(converted);
    expect(fromSafetensors.sources.map(({ role, format }) => [role, format])).toEqual([['unipic', 'safetensors']]);
    expect([...(await fromSafetensors.readBytes('mar.fake_latent'))]).toEqual([...f32(2, 8)]);
    await fromSafetensors.close();
  });

  it('reports missing paths and folders without weights as ModelNotFoundError', async () => {
    await expect(openCheckpoint(join(folder.path, 'absent'))).rejects.toThrow(ModelNotFoundError);
    await writeFile(join(folder.path, 'README.md'), 'nothing here');
    await expect(openCheckpoint(folder.path)).rejects.toThrow(ModelNotFoundError);
    await expect(openCheckpoint(join(folder.path, 'README.md'))).rejects.toThrow(InvalidModelError);
  });

  it('fails as a whole, closing what it opened, when one source is hostile', async () => {
    await officialFolder(folder.path);
    const evil = new PickleEncoder();
    evil.global('builtins', 'eval');
    evil.mark();
    evil.string('1');
    evil.tupleFromMark();
    evil.reduce();
    await writeZip(join(folder.path, 'kl16.ckpt'), [['archive/data.pkl', evil.finish()]]);
    await expect(openCheckpoint(folder.path)).rejects.toThrow(/builtins\.eval/);
  });
});
