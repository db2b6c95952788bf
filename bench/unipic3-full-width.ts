/**
 * UniPic-3 full-width, reduced-depth conversion (issue 17): a random Qwen-Image transformer with the
 * published widths (3072, 24 heads × 128, text 3584, in 64) and `--layers` blocks, streamed to disk
 * as bf16 safetensors, then `convertUnipic3Graphs` to q4 — elapsed time and peak RSS per phase.
 *
 *   flock /work/wt/_heavy.lock node --import tsx bench/unipic3-full-width.ts <dir> [--layers 2]
 *
 * The VAE is the fixture's tiny one (its conversion time is negligible). Outputs are gigabytes:
 * write under /tmp and delete afterwards. Numbers: docs/unipic3.md.
 */
import { cpSync, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { qwenTransformerKeySpecs } from '../src/families/unipic3/convert/key-accounting.js';
import { qwenTransformerConfigFromJson } from '../src/families/unipic3/convert/transformer/qwen-transformer-config.js';
import { convertUnipic3Graphs } from '../src/families/unipic3/convert/convert-unipic3-graphs.js';
import { encodeSafetensorsHeader } from '../src/formats/safetensors-encoder.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { layers: { type: 'string', default: '2' }, modulation: { type: 'string', default: 'internal' } },
});
const directory = positionals[0];
if (!directory) throw new Error('usage: unipic3-full-width.ts <dir> [--layers n] [--modulation internal|external]');
const layers = Number(values.layers);
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const GB = 1e9;

const config = {
  _class_name: 'QwenImageTransformer2DModel',
  patch_size: 2,
  in_channels: 64,
  out_channels: 16,
  num_layers: layers,
  attention_head_dim: 128,
  num_attention_heads: 24,
  joint_attention_dim: 3584,
  guidance_embeds: false,
  axes_dims_rope: [16, 56, 56],
};

async function make(): Promise<{ bytes: number; ms: number }> {
  const started = Date.now();
  const folder = join(directory, 'checkpoint', 'transformer');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
  const specs = qwenTransformerKeySpecs(qwenTransformerConfigFromJson(config));
  const layout = specs.map(([name, shape]) => ({ name, dtype: 'bfloat16' as const, shape }));
  const header = encodeSafetensorsHeader(layout);
  const out = createWriteStream(join(folder, 'diffusion_pytorch_model.safetensors'));
  out.write(header.prefix);
  let state = 0x9e3779b9;
  for (const [name, shape] of specs) {
    const count = shape.reduce((a, b) => a * b, 1);
    // Fan-in scaled uniform values; norm gains near 1.
    const scale = shape.length > 1 ? 1 / Math.sqrt(shape[1]) : name.includes('norm') ? 0 : 0.02;
    const offset = shape.length === 1 && name.includes('norm') ? 1 : 0;
    const chunk = 1 << 20;
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      const floats = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        floats[i] = offset + scale * ((state >>> 0) / 2 ** 32 - 0.5) * 2;
      }
      const words = new Uint32Array(floats.buffer);
      const bf16 = new Uint16Array(n);
      for (let i = 0; i < n; i++) bf16[i] = words[i] >>> 16;
      if (!out.write(new Uint8Array(bf16.buffer))) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  cpSync(new URL('../test/fixtures/unipic3/checkpoint/vae', import.meta.url), join(directory, 'checkpoint', 'vae'), { recursive: true });
  return { bytes: header.prefix.length + header.dataLength, ms: Date.now() - started };
}

const made = await make();
console.log(JSON.stringify({ phase: 'make', layers, gb: made.bytes / GB, ms: made.ms, peakRssGB: peakRss() / GB }));
const started = Date.now();
const summary = await convertUnipic3Graphs(join(directory, 'checkpoint'), join(directory, 'out'), {
  dtype: 'q4',
  blocksPerGraph: layers,
  modulation: values.modulation as 'internal' | 'external',
});
console.log(
  JSON.stringify({ phase: 'convert', dtype: 'q4', modulation: values.modulation, files: summary.files.length, ms: Date.now() - started, peakRssGB: peakRss() / GB }),
);
