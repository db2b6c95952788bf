import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeTensor, ggufTensorBytes, writeGguf } from '../../bench/lib/gguf-writer.js';
import { float16BitsToFloat32 } from '../../src/convert/quantize/float16.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ramp = (count: number, scale: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.7) * scale);

describe('GGUF writer (decode benchmark, llama.cpp side)', () => {
  it('writes a file node-llama-cpp’s own GGUF reader parses: metadata, shapes innermost first, types, aligned offsets', async () => {
    const path = join(dir, 'small.gguf');
    const tensors = [
      { name: 'a.weight', shape: [3, 64], type: 'Q4_0' as const, values: () => ramp(192, 2) },
      { name: 'b.weight', shape: [5], type: 'F32' as const, values: () => ramp(5, 1) },
      { name: 'c.weight', shape: [2, 3], type: 'F16' as const, values: () => ramp(6, 1) },
    ];
    const dataBytes = writeGguf(
      path,
      [
        ['general.architecture', { type: 'string', value: 'qwen2' }],
        ['qwen2.block_count', { type: 'u32', value: 7 }],
        ['qwen2.rope.freq_base', { type: 'f32', value: 1e6 }],
        ['tokenizer.ggml.tokens', { type: 'string[]', value: ['a', 'b', 'Ġc'] }],
        ['tokenizer.ggml.token_type', { type: 'i32[]', value: [1, 3, 4] }],
      ],
      tensors,
    );
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const metadata = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(info.version).toBe(3);
    expect(metadata.general.architecture).toBe('qwen2');
    expect(metadata.general.alignment).toBe(32);
    expect(metadata.qwen2.block_count).toBe(7);
    expect(metadata.qwen2.rope).toEqual({ freq_base: 1e6 });
    expect((metadata.tokenizer.ggml as Record<string, unknown>).tokens).toEqual(['a', 'b', 'Ġc']);
    expect((metadata.tokenizer.ggml as Record<string, unknown>).token_type).toEqual([1, 3, 4]);
    const infos = info.fullTensorInfo ?? [];
    expect(infos.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType, Number(t.offset)])).toEqual([
      ['a.weight', [64, 3], 2, 0],
      ['b.weight', [5], 0, 128],
      ['c.weight', [3, 2], 1, 160],
    ]);
    expect(dataBytes).toBe(160 + ggufTensorBytes([2, 3], 'F16'));
    expect(readFileSync(path).length % 32).toBe((160 + 12) % 32);
  });

  it('Q4_0 blocks: f16 scale = the signed absolute maximum / −8, nibbles low half first, dequantizing within half a step (ggml clips the far side at 7·|d|)', () => {
    const values = ramp(64, 3);
    values[5] = -4; // the block's extreme is negative: d = −4 / −8 = 0.5
    const bytes = encodeTensor(values, [64], 'Q4_0');
    expect(bytes.length).toBe(2 * 18);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    for (let block = 0; block < 2; block++) {
      const d = float16BitsToFloat32(view.getUint16(block * 18, true));
      if (block === 0) expect(d).toBe(0.5);
      for (let j = 0; j < 32; j++) {
        const byte = bytes[block * 18 + 2 + (j % 16)];
        const q = j < 16 ? byte & 15 : byte >> 4;
        const x = values[block * 32 + j];
        const clipped = Math.max(0, Math.abs(x) - 7 * Math.abs(d));
        expect(Math.abs((q - 8) * d - x)).toBeLessThanOrEqual(Math.max(Math.abs(d) / 2, clipped) + 1e-6);
      }
    }
  });
});
