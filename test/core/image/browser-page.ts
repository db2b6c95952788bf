// Bundled by browser.test.ts and run in Chromium: exercises the image module with real browser
// objects and the wasm codecs loaded the browser way (fetched next to the bundle).
import { crop2square, encodePng, loadImage, resizeLikePillow, toBlob } from '../../../src/core/image/index.js';

async function fixture(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(`/fixtures/${path}`)).arrayBuffer());
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function rgbaFromRgb(rgb: Uint8Array, width: number, height: number): ImageData {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return new ImageData(rgba, width, height);
}

async function run(): Promise<Record<string, number | string>> {
  const results: Record<string, number | string> = {};
  const jpegPillow = await fixture('expected/photo-420-64x48-jpg.decoded.rgb');
  const jpegBlob = new Blob([(await fixture('sources/photo-420-64x48.jpg')) as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' });
  results.jpegBlob = maxDifference((await loadImage(jpegBlob)).data, jpegPillow);
  results.webpBytes = maxDifference((await loadImage(await fixture('sources/lossy-40x30.webp'))).data, await fixture('expected/lossy-40x30-webp.decoded.rgb'));
  results.pngRelativeUrl = maxDifference((await loadImage('fixtures/sources/rgb-37x61.png')).data, await fixture('expected/rgb-37x61-png.decoded.rgb'));

  const rgb = await fixture('expected/rgb-37x61-png.decoded.rgb');
  const imageData = rgbaFromRgb(rgb, 37, 61);
  results.imageData = maxDifference((await loadImage(imageData)).data, rgb);
  const canvas = document.createElement('canvas');
  canvas.width = 37;
  canvas.height = 61;
  canvas.getContext('2d')!.putImageData(imageData, 0, 0);
  results.canvas = maxDifference((await loadImage(canvas)).data, rgb);
  const offscreen = new OffscreenCanvas(37, 61);
  offscreen.getContext('2d')!.putImageData(imageData, 0, 0);
  results.offscreenCanvas = maxDifference((await loadImage(offscreen)).data, rgb);
  results.imageBitmap = maxDifference((await loadImage(await createImageBitmap(imageData))).data, rgb);

  const source = await loadImage(await fixture('sources/rgb-300x200.png'));
  const resized = resizeLikePillow(crop2square(source), 128, 128);
  results.resize = maxDifference(resized.data, await fixture('expected/rgb-300x200-png.crop2square.128x128.rgb'));

  const rgba = rgbaFromRgb(resized.data, 128, 128).data;
  const bitmap = await createImageBitmap(toBlob(rgba, 128, 128));
  results.toBlobDecodesInBrowser = `${bitmap.width}x${bitmap.height}`;
  results.pngRoundTrip = maxDifference((await loadImage(encodePng(rgba, 128, 128))).data, resized.data);
  return results;
}

(window as unknown as { imageChecks: Promise<unknown> }).imageChecks = run().catch((error: Error) => ({ error: `${error.name}: ${error.message}` }));
