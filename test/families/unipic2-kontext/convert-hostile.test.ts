import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UniPicError } from '../../../src/errors/unipic-error.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { cropPositionTable } from '../../../src/core/diffusion/position-embedding.js';
import { isKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/kontext-checkpoint.js';
import { encodeSafetensors } from '../../../src/formats/safetensors-encoder.js';
import { decodeSafetensors } from '../../../src/formats/safetensors.js';
import type { TensorDtype } from '../../../src/formats/tensor-dtype.js';
import { freshDir, KONTEXT_ROOT, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

function copyCheckpoint(): string {
  const dir = join(freshDir('hostile'), 'checkpoint');
  cpSync(TINY_CHECKPOINT, dir, { recursive: true });
  return dir;
}

/** Converting must fail with `code` before the output folder exists. */
async function expectRefused(checkpoint: string, code: string, message: RegExp): Promise<void> {
  const out = join(freshDir('out'), 'model');
  const error = await convertKontextCheckpoint(checkpoint, out, { dtypes: ['fp32'] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(UniPicError.isInstance(error)).toBe(true);
  expect((error as UniPicError).code).toBe(code);
  expect((error as Error).message).toMatch(message);
  expect(existsSync(out)).toBe(false);
}

function rewrite(file: string, edit: (tensors: { name: string; dtype: TensorDtype; shape: readonly number[]; data: Uint8Array }[]) => void): void {
  const decoded = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
  const tensors = [...decoded.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.bytes.slice() }));
  edit(tensors);
  writeFileSync(file, encodeSafetensors(tensors));
}

describe('Kontext converter: layouts and hostile inputs', () => {
  it('detects the family from the folder', async () => {
    expect(await isKontextCheckpoint(TINY_CHECKPOINT)).toBe(true);
    expect(await isKontextCheckpoint(join(KONTEXT_ROOT, 'golden'))).toBe(false);
    // A Metaquery checkpoint has the same transformer, a conditioner and no CLIP encoders.
    const metaquery = copyCheckpoint();
    rmSync(join(metaquery, 'text_encoder'), { recursive: true });
    cpSync(join(metaquery, 'text_encoder_2'), join(metaquery, 'conditioner'), { recursive: true });
    expect(await isKontextCheckpoint(metaquery)).toBe(false);
  });

  it('reads the transformer as fp32 single file and as bf16 shards to the same graph', async () => {
    const datas: Buffer[] = [];
    for (const variant of ['transformer-fp32', 'transformer-bf16-sharded']) {
      const checkpoint = copyCheckpoint();
      rmSync(join(checkpoint, 'transformer'), { recursive: true });
      cpSync(join(KONTEXT_ROOT, 'checkpoint-variants', variant), join(checkpoint, 'transformer'), { recursive: true });
      const out = freshDir('variant');
      await convertKontextCheckpoint(checkpoint, out, { dtypes: ['fp32'] });
      datas.push(readFileSync(join(out, 'transformer.fp32.onnx.data')));
    }
    expect(datas[0].equals(datas[1])).toBe(true);
  });

  it('refuses q8, which only UniPic-1 graphs are built and tested for', async () => {
    const out = join(freshDir('out'), 'model');
    const error = await convertKontextCheckpoint(TINY_CHECKPOINT, out, { dtypes: ['q8'] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as UniPicError).code).toBe('INVALID_OPTIONS');
    expect((error as Error).message).toMatch(/"q8" is not one of fp32, fp16, q4, q4f16/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an index that names a missing shard', async () => {
    const checkpoint = copyCheckpoint();
    rmSync(join(checkpoint, 'text_encoder_3', 'model-00002-of-00002.safetensors'));
    await expectRefused(checkpoint, 'INVALID_MODEL', /names shard files that are missing: model-00002-of-00002/);
  });

  it('refuses a shard file the index does not name', async () => {
    const checkpoint = copyCheckpoint();
    cpSync(join(checkpoint, 'text_encoder_3', 'model-00002-of-00002.safetensors'), join(checkpoint, 'text_encoder_3', 'model-00003-of-00003.safetensors'));
    await expectRefused(checkpoint, 'INVALID_MODEL', /shard files its index does not name/);
  });

  it('refuses shards that disagree with the index', async () => {
    const checkpoint = copyCheckpoint();
    const indexPath = join(checkpoint, 'text_encoder_3', 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map: Record<string, string> };
    const [name, shard] = Object.entries(index.weight_map)[0];
    index.weight_map[name] = shard.includes('00001') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
    writeFileSync(indexPath, JSON.stringify(index));
    await expectRefused(checkpoint, 'INVALID_MODEL', /does not (list|hold)/);
  });

  it('refuses a tensor of the wrong shape, of a non-float dtype, and an unknown key', async () => {
    let checkpoint = copyCheckpoint();
    const vae = join(checkpoint, 'vae', 'diffusion_pytorch_model.safetensors');
    rewrite(vae, (tensors) => {
      const t = tensors.find((x) => x.name === 'decoder.conv_out.bias')!;
      t.shape = [t.shape[0] + 1];
      t.data = new Uint8Array(t.data.length + 2);
    });
    await expectRefused(checkpoint, 'INVALID_MODEL', /unexpected shapes, e\.g\. vae\.decoder\.conv_out\.bias/);

    checkpoint = copyCheckpoint();
    rewrite(join(checkpoint, 'vae', 'diffusion_pytorch_model.safetensors'), (tensors) => {
      const t = tensors.find((x) => x.name === 'decoder.conv_out.bias')!;
      t.dtype = 'int16';
    });
    await expectRefused(checkpoint, 'INVALID_MODEL', /not bf16\/fp16\/fp32, e\.g\. vae\.decoder\.conv_out\.bias: int16/);

    checkpoint = copyCheckpoint();
    rewrite(join(checkpoint, 'vae', 'diffusion_pytorch_model.safetensors'), (tensors) => {
      tensors.push({ name: 'decoder.extra.weight', dtype: 'float32', shape: [2], data: new Uint8Array(8) });
    });
    await expectRefused(checkpoint, 'INVALID_MODEL', /does not know: vae\.decoder\.extra\.weight/);
  });

  it('refuses a missing component, pickle weights and an unsupported config', async () => {
    let checkpoint = copyCheckpoint();
    rmSync(join(checkpoint, 'vae'), { recursive: true });
    await expectRefused(checkpoint, 'INVALID_MODEL', /no vae\/ folder/);

    checkpoint = copyCheckpoint();
    writeFileSync(join(checkpoint, 'vae', 'diffusion_pytorch_model.bin'), 'x');
    await expectRefused(checkpoint, 'INVALID_MODEL', /pickle weights/);

    checkpoint = copyCheckpoint();
    const configPath = join(checkpoint, 'text_encoder_3', 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), feed_forward_proj: 'relu' }));
    await expectRefused(checkpoint, 'INVALID_MODEL', /feed_forward_proj/);

    checkpoint = copyCheckpoint();
    const transformerConfig = join(checkpoint, 'transformer', 'config.json');
    writeFileSync(transformerConfig, JSON.stringify({ ...JSON.parse(readFileSync(transformerConfig, 'utf8')), num_attention_heads: 2, attention_head_dim: 16 }));
    await expectRefused(checkpoint, 'INVALID_MODEL', /unexpected shapes/);
  });

  it('records a float32 position table, refuses one that is not the sin-cos table', async () => {
    const fresh = cropPositionTable({ width: 32, maxSize: 24, baseSize: 16, interpolationScale: 1, rounding: 'float32' }, 24, 24);
    let checkpoint = copyCheckpoint();
    rewrite(join(checkpoint, 'transformer', 'diffusion_pytorch_model.safetensors'), (tensors) => {
      const t = tensors.find((x) => x.name === 'pos_embed.pos_embed')!;
      t.dtype = 'float32';
      t.data = new Uint8Array(fresh.slice().buffer);
    });
    const summary = await convertKontextCheckpoint(checkpoint, freshDir('f32-table'), { dtypes: ['fp32'] });
    expect(summary.manifest.config.transformer.positionTable.rounding).toBe('float32');

    checkpoint = copyCheckpoint();
    rewrite(join(checkpoint, 'transformer', 'diffusion_pytorch_model.safetensors'), (tensors) => {
      const t = tensors.find((x) => x.name === 'pos_embed.pos_embed')!;
      const changed = fresh.slice();
      changed[1000] += 0.25;
      t.dtype = 'float32';
      t.data = new Uint8Array(changed.buffer);
    });
    await expectRefused(checkpoint, 'INVALID_MODEL', /is not the SD3 2-D sin-cos table/);
  });

  it('converts without text_encoder_3 (no T5 graph, a warning)', async () => {
    const checkpoint = copyCheckpoint();
    rmSync(join(checkpoint, 'text_encoder_3'), { recursive: true });
    const out = freshDir('no-t5');
    const summary = await convertKontextCheckpoint(checkpoint, out, { dtypes: ['fp32'] });
    expect(summary.manifest.graphs.t5_encoder).toBeUndefined();
    expect(summary.manifest.tokenizers.t5).toBeUndefined();
    expect(summary.warnings.join()).toMatch(/without T5/);
    expect(readdirSync(out)).toContain('unipic.json');
  });
});
