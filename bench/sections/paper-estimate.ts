import { UNIPIC_1_5B } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { generationFlops } from '../lib/flop-count.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatTable } from '../lib/table.js';

/**
 * A 4090-class GPU, from NVIDIA's Ada whitepaper: FP16 tensor throughput with FP32 accumulate
 * (dense) and memory bandwidth. Compute efficiencies are assumptions, stated in the table.
 */
const GPU = { name: 'RTX 4090', fp16TensorFlops: 165.2e12, bandwidth: 1008e9 };
const EFFICIENCIES = [0.6, 0.35];

/** No measurement: the FLOP count of a 1024² image and what it means on a 4090-class GPU. */
export async function paperEstimateSection(_context: BenchContext): Promise<SectionResult> {
  const cases = [
    { label: '1024², 32 iterations (script default)', size: 1024, iterations: 32 },
    { label: '1024², 64 iterations (paper evaluation)', size: 1024, iterations: 64 },
    { label: '512², 32 iterations', size: 512, iterations: 32 },
  ];
  const rows = cases.map((c) => ({ ...c, flops: generationFlops(UNIPIC_1_5B, { size: c.size, iterations: c.iterations, rows: 2, prefix: 24, bytesPerWeight: 2 }) }));
  const tera = (v: number) => (v / 1e12).toFixed(0);
  const table = formatTable(
    [
      'case',
      'MAR enc',
      'LLM',
      'MAR dec',
      'head',
      'VAE dec',
      'total TFLOP',
      `${GPU.name} at ${EFFICIENCIES.map((e) => `${e * 100}%`).join(' / ')} of fp16 peak`,
      'fp16 weight reads',
    ],
    rows.map((r) => [
      r.label,
      tera(r.flops.marEncoder),
      tera(r.flops.llm),
      tera(r.flops.marDecoder),
      tera(r.flops.diffusionHead),
      tera(r.flops.vaeDecoder),
      tera(r.flops.total),
      EFFICIENCIES.map((e) => `${(r.flops.total / (GPU.fp16TensorFlops * e)).toFixed(1)} s`).join(' / '),
      `${(r.flops.weightReads / 1e12).toFixed(2)} TB = ${(r.flops.weightReads / GPU.bandwidth).toFixed(1)} s`,
    ]),
  );
  const main = rows[0];
  return {
    title: 'On paper: FLOPs of one image with guidance (2 rows) and a 4090-class GPU',
    table,
    notes: [
      'multiply-add = 2 FLOPs; attention as its two products (LLM causal: half the block); norms, activations, softmax left out; 24-token text prefix',
      `${GPU.name}: ${GPU.fp16TensorFlops / 1e12} TFLOP/s fp16 tensor (fp32 accumulate, dense), ${GPU.bandwidth / 1e9} GB/s; 60% is what large fp16 GEMMs reach, 35% allows for attention, small head batches and launch gaps`,
      "weight reads: the MAR stacks and LLM once per iteration, the diffusion head once per sampler step, fp16 (q4: about a quarter); the head's 100 steps make it the one part that can turn bandwidth-bound when few tokens are predicted",
    ],
    summary: `on paper: 1024² at 32 iterations = ${tera(main.flops.total)} TFLOP → ${EFFICIENCIES.map((e) => (main.flops.total / (GPU.fp16TensorFlops * e)).toFixed(0)).join('–')} s on a ${GPU.name}-class GPU`,
    data: { rows, gpu: GPU },
  };
}
