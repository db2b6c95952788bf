/**
 * The respaced cosine DDPM tables of UniPic's diffusion head (DDPM with a cosine β schedule, respaced to the sampling steps, as MAR's diffloss), computed in
 * float64 exactly as the numpy code does: the base cosine betas clipped at `maxBeta` (0.2 in UniPic,
 * 0.999 in MAR/Harmon), respaced by `space_timesteps`, and every derived table of GaussianDiffusion.
 */
export interface DiffusionTables {
  /** Original timestep fed to the network for each respaced index k (`timestep_map`). */
  readonly timesteps: Float64Array;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  readonly posteriorVariance: Float64Array;
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  readonly logBetas: Float64Array;
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `respace.space_timesteps(numTimesteps, String(steps))` for a single section. */
export function spaceTimesteps(numTimesteps: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > numTimesteps) {
    throw new RangeError(`cannot divide ${numTimesteps} timesteps into ${steps} steps`);
  }
  const frac = steps === 1 ? 1 : (numTimesteps - 1) / (steps - 1);
  const taken = new Set<number>();
  let current = 0;
  for (let i = 0; i < steps; i++) {
    taken.add(roundHalfEven(current));
    current += frac;
  }
  return [...taken].sort((a, b) => a - b);
}

/** `betas_for_alpha_bar` with the squared-cosine ᾱ(t) and UniPic's clipping value. */
export function cosineBetas(numTimesteps: number, maxBeta: number): Float64Array {
  const alphaBar = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
  const betas = new Float64Array(numTimesteps);
  for (let i = 0; i < numTimesteps; i++) {
    betas[i] = Math.min(1 - alphaBar((i + 1) / numTimesteps) / alphaBar(i / numTimesteps), maxBeta);
  }
  return betas;
}

function cumprod(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) out[i] = acc *= values[i];
  return out;
}

/** GaussianDiffusion's derived tables for a beta sequence. */
function gaussianTables(betas: Float64Array, timesteps: Float64Array): DiffusionTables {
  const n = betas.length;
  const alphas = betas.map((b) => 1 - b);
  const alphasCumprod = cumprod(alphas);
  const alphasCumprodPrev = new Float64Array(n);
  alphasCumprodPrev[0] = 1;
  for (let i = 1; i < n; i++) alphasCumprodPrev[i] = alphasCumprod[i - 1];
  const posteriorVariance = new Float64Array(n);
  const coef1 = new Float64Array(n);
  const coef2 = new Float64Array(n);
  const recip = new Float64Array(n);
  const recipm1 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    posteriorVariance[i] = (betas[i] * (1 - alphasCumprodPrev[i])) / (1 - alphasCumprod[i]);
    coef1[i] = (betas[i] * Math.sqrt(alphasCumprodPrev[i])) / (1 - alphasCumprod[i]);
    coef2[i] = ((1 - alphasCumprodPrev[i]) * Math.sqrt(alphas[i])) / (1 - alphasCumprod[i]);
    recip[i] = Math.sqrt(1 / alphasCumprod[i]);
    recipm1[i] = Math.sqrt(1 / alphasCumprod[i] - 1);
  }
  // log(0) at index 0 is avoided by repeating the second entry, as the reference does.
  const clipped = new Float64Array(n);
  for (let i = 0; i < n; i++) clipped[i] = Math.log(n > 1 && i === 0 ? posteriorVariance[1] : posteriorVariance[i]);
  return {
    timesteps,
    betas,
    alphasCumprod,
    alphasCumprodPrev,
    posteriorVariance,
    posteriorLogVarianceClipped: clipped,
    posteriorMeanCoef1: coef1,
    posteriorMeanCoef2: coef2,
    sqrtRecipAlphasCumprod: recip,
    sqrtRecipm1AlphasCumprod: recipm1,
    logBetas: betas.map(Math.log),
  };
}

/** The tables of `create_diffusion(timestep_respacing=String(steps), noise_schedule="cosine")`. */
export function respacedCosineTables(options: { numTimesteps: number; steps: number; maxBeta: number }): DiffusionTables {
  const base = gaussianTables(cosineBetas(options.numTimesteps, options.maxBeta), new Float64Array(0));
  const use = new Set(spaceTimesteps(options.numTimesteps, options.steps));
  const newBetas: number[] = [];
  const map: number[] = [];
  let last = 1;
  base.alphasCumprod.forEach((alphaCumprod, i) => {
    if (use.has(i)) {
      newBetas.push(1 - alphaCumprod / last);
      last = alphaCumprod;
      map.push(i);
    }
  });
  return gaussianTables(Float64Array.from(newBetas), Float64Array.from(map));
}
