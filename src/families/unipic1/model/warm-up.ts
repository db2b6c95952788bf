import type { ModelConfig, UniPic1GraphName as GraphName } from '../manifest.js';
import type { LoadProgressCallback } from '../../../spec/progress.js';
import { float32, int64 } from '../../../core/tensor.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';

/**
 * One minimal run of each small per-token graph the model will call thousands of times, so
 * kernel compilation (WebGPU shaders) happens during load rather than in the first call.
 */
export async function warmUp(
  graphs: Graphs,
  config: ModelConfig,
  loaded: readonly GraphName[],
  onProgress: LoadProgressCallback | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { tokenDim: C, decoderWidth: W } = config.mar;
  const runs: [GraphName, () => Promise<unknown>][] = [
    ['embed', () => graphs.run('embed', { input_ids: int64([1, 1], [config.tokens.imStart]) }, { signal })],
    ['lm_head', () => graphs.run('lm_head', { hidden: float32([1, config.llm.hiddenSize], new Float32Array(config.llm.hiddenSize)) }, { signal })],
    [
      'diffusion_head',
      () =>
        graphs.run(
          'diffusion_head',
          { x: float32([1, C], new Float32Array(C)), t: float32([1], new Float32Array([999])), c: float32([1, W], new Float32Array(W)) },
          { signal },
        ),
    ],
  ];
  const todo = runs.filter(([name]) => loaded.includes(name));
  let done = 0;
  for (const [name, run] of todo) {
    onProgress?.({ phase: 'warmup', file: name, fileLoaded: 0, fileTotal: 1, loaded: done, total: todo.length });
    const outputs = (await run()) as Record<string, { dispose(): void }>;
    for (const output of Object.values(outputs)) output.dispose();
    done++;
    onProgress?.({ phase: 'warmup', file: name, fileLoaded: 1, fileTotal: 1, loaded: done, total: todo.length });
  }
}
