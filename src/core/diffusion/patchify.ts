/**
 * Latent ↔ token layout of the Kontext transformer graph (docs/model-format.md). The patch
 * embedding is a p×p stride-p convolution, i.e. a linear map of each patch flattened as its
 * weight is, `(c, py, px)`; `proj_out` writes each token as `(py, px, c)` (diffusers' unpatchify
 * `nhwpqc → nchpwq`). Doing the rearrangement here keeps the graph free of shape arithmetic and
 * lets the reference-token count be zero for text-to-image.
 */
export function patchify(latent: Float32Array, batch: number, channels: number, height: number, width: number, p: number): Float32Array {
  const gh = height / p;
  const gw = width / p;
  const per = channels * p * p;
  const out = new Float32Array(batch * gh * gw * per);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < channels; c++)
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const token = Math.floor(y / p) * gw + Math.floor(x / p);
          const within = (c * p + (y % p)) * p + (x % p);
          out[(b * gh * gw + token) * per + within] = latent[((b * channels + c) * height + y) * width + x];
        }
  return out;
}

/** Inverse of the `proj_out` layout: `[B, N, p·p·C]` tokens → `[B, C, H, W]`. */
export function unpatchify(tokens: Float32Array, batch: number, channels: number, height: number, width: number, p: number): Float32Array {
  const gw = width / p;
  const gh = height / p;
  const per = channels * p * p;
  const out = new Float32Array(batch * channels * height * width);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < channels; c++)
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const token = Math.floor(y / p) * gw + Math.floor(x / p);
          const within = ((y % p) * p + (x % p)) * channels + c;
          out[((b * channels + c) * height + y) * width + x] = tokens[(b * gh * gw + token) * per + within];
        }
  return out;
}
