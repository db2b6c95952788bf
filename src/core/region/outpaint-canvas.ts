import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { DEFAULT_MAX_PIXELS } from '../image/pixel-limit.js';

/**
 * Where the source goes on a larger canvas, in source pixels. Margins (`left`, `top`, `right`,
 * `bottom`) add that much canvas on a side; `width`/`height` give the canvas size outright, the
 * image then placed at `left`/`top` (or `right`/`bottom` from the far side, or centred).
 * `{ right: 256 }` extends to the right; `{ left: 64, top: 0, width: 1024, height: 768 }` places.
 */
export interface OutpaintSpec {
  readonly left?: number;
  readonly top?: number;
  readonly right?: number;
  readonly bottom?: number;
  readonly width?: number;
  readonly height?: number;
}

/** The resolved canvas: its size and the source's top-left corner on it. */
export interface OutpaintCanvas {
  readonly width: number;
  readonly height: number;
  readonly x: number;
  readonly y: number;
}

function axis(image: number, before: number | undefined, after: number | undefined, size: number | undefined, names: [string, string, string]): [number, number] {
  const total = size ?? (before ?? 0) + image + (after ?? 0);
  const at = before ?? (after !== undefined ? total - image - after : Math.floor((total - image) / 2));
  const fits = at >= 0 && at + image <= total && (before === undefined || after === undefined || at + image + after === total);
  if (!fits) {
    const given = [`${names[0]}: ${before ?? '-'}`, `${names[1]}: ${after ?? '-'}`, `${names[2]}: ${size ?? '-'}`].join(', ');
    throw new InvalidOptionsError(
      `outpaint: a ${image}-pixel ${names[2]} does not fit the canvas (${given}); margins are non-negative and must add up to the canvas ${names[2]}`,
      {
        details: { issues: [{ path: 'outpaint', message: `the image does not fit the canvas ${names[2]}` }] },
      },
    );
  }
  return [total, at];
}

/** The canvas an outpaint spec describes for an `imageWidth`×`imageHeight` source. */
export function resolveOutpaintCanvas(imageWidth: number, imageHeight: number, spec: OutpaintSpec): OutpaintCanvas {
  const [width, x] = axis(imageWidth, spec.left, spec.right, spec.width, ['left', 'right', 'width']);
  const [height, y] = axis(imageHeight, spec.top, spec.bottom, spec.height, ['top', 'bottom', 'height']);
  if (width === imageWidth && height === imageHeight) {
    throw new InvalidOptionsError(`outpaint: the canvas ${width}×${height} adds nothing to the ${imageWidth}×${imageHeight} image; give a margin or a larger size`, {
      details: { issues: [{ path: 'outpaint', message: 'the canvas adds no area' }] },
    });
  }
  if (width * height > DEFAULT_MAX_PIXELS) {
    throw new InvalidOptionsError(`outpaint: the canvas ${width}×${height} is above the ${DEFAULT_MAX_PIXELS}-pixel limit`, {
      details: { issues: [{ path: 'outpaint', message: 'canvas too large' }] },
    });
  }
  return { width, height, x, y };
}

/** `right:256`, `left:64,top:32`, `width:1024,height:768,left:0,top:0` (the CLI's `--outpaint`). */
export function parseOutpaintSpec(text: string): OutpaintSpec {
  const keys = new Set(['left', 'top', 'right', 'bottom', 'width', 'height']);
  const spec: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+)[:=](\d+)$/.exec(part);
    if (!match || !keys.has(match[1])) {
      throw new InvalidOptionsError(
        `--outpaint: cannot read "${part}"; expected side:pixels pairs such as right:256 or left:64,top:64 (sides left, top, right, bottom; or width, height)`,
        {
          details: { issues: [{ path: 'outpaint', message: `unreadable part ${part}` }] },
        },
      );
    }
    spec[match[1]] = Number(match[2]);
  }
  if (Object.keys(spec).length === 0) {
    throw new InvalidOptionsError('--outpaint needs at least one side:pixels pair, e.g. right:256', {
      details: { issues: [{ path: 'outpaint', message: 'empty' }] },
    });
  }
  return spec;
}
