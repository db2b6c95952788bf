/** Writes `image` rows into the rows of `embeds` whose id is the image token, in order. */
export function scatterImage(embeds: Float32Array, ids: readonly number[], imageTokenId: number, image: Float32Array, H: number): void {
  let row = 0;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== imageTokenId) continue;
    if ((row + 1) * H > image.length) throw new RangeError(`the prompt has more image tokens than the image's ${image.length / H}`);
    embeds.set(image.subarray(row * H, (row + 1) * H), i * H);
    row++;
  }
  if (row * H !== image.length) throw new RangeError(`the prompt has ${row} image tokens, the image ${image.length / H}`);
}
