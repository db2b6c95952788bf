/**
 * Hugging Face's logits processors (transformers 4.45), each on a float32 row it may modify in
 * place. Arithmetic stays in float32 like torch's; option values are rounded to float32 first, as
 * torch does when it divides a float tensor by a Python float.
 */

/**
 * `RepetitionPenaltyLogitsProcessor`: for every distinct previously seen id, a logit below zero is
 * multiplied by the penalty and any other logit divided by it (once per id, however often seen).
 */
export function applyRepetitionPenalty(scores: Float32Array, seenIds: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  const factor = Math.fround(penalty);
  const done = new Set<number>();
  for (const id of seenIds) {
    if (done.has(id) || id < 0 || id >= scores.length) continue;
    done.add(id);
    const score = scores[id]!;
    scores[id] = score < 0 ? score * factor : score / factor;
  }
}

/** `TemperatureLogitsWarper`. */
export function applyTemperature(scores: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  const divisor = Math.fround(temperature);
  for (let index = 0; index < scores.length; index++) scores[index] = scores[index]! / divisor;
}

/** The k-th largest value of `scores` (k ≥ 1), by a size-k min-heap. */
function kthLargest(scores: Float32Array, k: number): number {
  const heap = new Float64Array(k);
  let size = 0;
  const siftDown = (start: number): void => {
    let parent = start;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < size && heap[left]! < heap[smallest]!) smallest = left;
      if (right < size && heap[right]! < heap[smallest]!) smallest = right;
      if (smallest === parent) return;
      [heap[parent], heap[smallest]] = [heap[smallest]!, heap[parent]!];
      parent = smallest;
    }
  };
  for (let index = 0; index < scores.length; index++) {
    const value = scores[index]!;
    if (size < k) {
      let child = size++;
      heap[child] = value;
      while (child > 0) {
        const parent = (child - 1) >> 1;
        if (heap[parent]! <= heap[child]!) break;
        [heap[parent], heap[child]] = [heap[child]!, heap[parent]!];
        child = parent;
      }
    } else if (value > heap[0]!) {
      heap[0] = value;
      siftDown(0);
    }
  }
  return heap[0]!;
}

/**
 * `TopKLogitsWarper`: keeps every score ≥ the k-th largest (ties at the boundary all survive, so
 * more than k may remain), sets the rest to −∞. k is clamped to [1, vocabulary].
 */
export function applyTopK(scores: Float32Array, topK: number): void {
  const k = Math.min(Math.max(topK, 1), scores.length);
  if (k >= scores.length) return;
  const threshold = kthLargest(scores, k);
  for (let index = 0; index < scores.length; index++) {
    if (scores[index]! < threshold) scores[index] = -Infinity;
  }
}

/**
 * `TopPLogitsWarper`: sorts ascending, removes the tokens whose cumulative probability (from the
 * least likely up) is ≤ 1 − p, always keeping the most likely one. Probabilities are computed in
 * float64 (torch uses float32: results can differ only when a cumulative sum lands within float32
 * rounding of 1 − p). Equal scores are ordered so that the lower id counts as more likely, the
 * same preference greedy decoding has (torch's sort leaves that order unspecified).
 */
export function applyTopP(scores: Float32Array, topP: number): void {
  if (topP >= 1) return;
  const candidates: number[] = [];
  for (let index = 0; index < scores.length; index++) {
    if (scores[index]! > -Infinity) candidates.push(index);
  }
  if (candidates.length <= 1) return;
  candidates.sort((a, b) => scores[a]! - scores[b]! || b - a);
  const maximum = scores[candidates[candidates.length - 1]!]!;
  let total = 0;
  for (const index of candidates) total += Math.exp(scores[index]! - maximum);
  // torch compares the float32 sums against the Python float 1 − p rounded to float32.
  const limit = Math.fround(1 - topP);
  let cumulative = 0;
  for (let rank = 0; rank < candidates.length - 1; rank++) {
    const index = candidates[rank]!;
    cumulative += Math.exp(scores[index]! - maximum) / total;
    if (cumulative > limit) break;
    scores[index] = -Infinity;
  }
}
