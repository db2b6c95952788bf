/**
 * MaskGIT cosine schedule of the MAR loop: how many tokens stay masked after each
 * iteration. float64 `cos` and `floor` as numpy computes them, then the clamp.
 */
export function nextMaskLength(step: number, numIterations: number, numTokens: number, maskedNow: number): number {
  const ratio = Math.cos(((Math.PI / 2) * (step + 1)) / numIterations);
  const target = Math.floor(numTokens * ratio);
  return Math.max(1, Math.min(maskedNow - 1, target));
}

export interface StepPlan {
  readonly step: number;
  /** Tokens known before this step. */
  readonly known: number;
  /** Tokens predicted in this step. */
  readonly predicted: number;
  /** Tokens still masked after this step. */
  readonly maskedAfter: number;
  /** The clamped schedule length (also at the last step, where the linear CFG schedule reads it). */
  readonly maskLength: number;
}

/** The whole schedule: per step, known-before / predicted counts (the last step predicts the rest). */
export function planSteps(numTokens: number, numIterations: number): StepPlan[] {
  const plan: StepPlan[] = [];
  let masked = numTokens;
  for (let step = 0; step < numIterations; step++) {
    const last = step >= numIterations - 1;
    const maskLength = nextMaskLength(step, numIterations, numTokens, masked);
    const next = last ? 0 : maskLength;
    plan.push({ step, known: numTokens - masked, predicted: masked - next, maskedAfter: next, maskLength });
    masked = next;
  }
  return plan;
}
