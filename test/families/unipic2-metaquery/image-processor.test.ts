import { describe, expect, it } from 'vitest';
import { pixelPatches } from '../../../src/core/qwen-vl/pixel-patches.js';
import { editVisionPixels, smartResize } from '../../../src/core/qwen-vl/smart-resize.js';
import { torchBicubicResize } from '../../../src/core/qwen-vl/torch-bicubic-resize.js';
import { mqBytes, mqFloat, mqInt, mqNotes, mqShape, testImage } from './support/goldens.js';

describe('Qwen2-VL image processor (fast, torchvision resize) against the oracle', () => {
  const image = testImage();

  it('smart_resize: default pixels for understanding, the 28/32 rule for editing', () => {
    expect(smartResize(256, 320, 28, 3136, 12845056)).toEqual({ height: 252, width: 308 });
    const edit = editVisionPixels(256, 320);
    expect(edit).toBe(mqNotes['edit.min_max_pixels']);
    expect(smartResize(256, 320, 28, edit, edit)).toEqual({ height: 224, width: 280 });
    // 7/8 of every multiple-of-32 edit size (the 28/32 pixel rule of `unipic2_mq_editing.py`).
    for (const [h, w] of [
      [512, 384],
      [1024, 1024],
      [384, 512],
      [512, 512],
    ]) {
      const px = editVisionPixels(h, w);
      expect(smartResize(h, w, 28, px, px)).toEqual({ height: (h * 7) / 8, width: (w * 7) / 8 });
    }
    expect(mqInt('understand.vision.grid_thw')).toEqual([1, 18, 22]);
    expect(mqInt('edit.vision.grid_thw')).toEqual([1, 16, 20]);
  });

  for (const prefix of ['understand.vision', 'edit.vision']) {
    it(`${prefix}: resize bytes exact, patches equal`, () => {
      const [, gh, gw] = mqInt(`${prefix}.grid_thw`);
      const resized = torchBicubicResize(image, gw * 14, gh * 14);
      const expected = mqBytes(`${prefix}.resized`);
      expect(mqShape(`${prefix}.resized`)).toEqual([gh * 14, gw * 14, 3]);
      let mismatches = 0;
      for (let i = 0; i < expected.length; i++) if (resized.data[i] !== expected[i]) mismatches++;
      expect(mismatches).toBe(0);

      const patches = pixelPatches(resized);
      expect(patches.gridThw).toEqual([1, gh, gw]);
      expect(patches.rowWidth).toBe(1176);
      const head = mqFloat(`${prefix}.pixel_values.head`);
      expect(Array.from(patches.data.subarray(0, head.length))).toEqual(Array.from(head));
    });
  }

  for (const name of ['upscale', 'maxpx']) {
    it(`${name}: smart_resize branch and resize bytes equal the processor's`, () => {
      const { box, min_pixels, max_pixels } = mqNotes[`processor.${name}`] as { box: number[]; min_pixels: number; max_pixels: number };
      const [left, top, right, bottom] = box;
      const width = right - left;
      const height = bottom - top;
      const data = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y++) data.set(image.data.subarray(((top + y) * image.width + left) * 3, ((top + y) * image.width + right) * 3), y * width * 3);
      const size = smartResize(height, width, 28, min_pixels, max_pixels);
      const [, gh, gw] = mqInt(`processor.${name}.grid_thw`);
      expect(size).toEqual({ height: gh * 14, width: gw * 14 });
      const resized = torchBicubicResize({ width, height, data }, size.width, size.height);
      expect(Array.from(resized.data)).toEqual(Array.from(mqBytes(`processor.${name}.resized`)));
    });
  }
});
