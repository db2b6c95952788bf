/** The page's elements and the few ways the app changes them. */

export function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

export const view = {
  modelUrl: element<HTMLInputElement>('model-url'),
  device: element<HTMLSelectElement>('device'),
  load: element<HTMLButtonElement>('load'),
  loadProgress: element<HTMLProgressElement>('load-progress'),
  loadStatus: element<HTMLSpanElement>('load-status'),
  warnings: element<HTMLUListElement>('warnings'),
  imageFile: element<HTMLInputElement>('image-file'),
  imagePreview: element<HTMLImageElement>('image-preview'),
  question: element<HTMLInputElement>('question'),
  maxTokens: element<HTMLInputElement>('max-tokens'),
  ask: element<HTMLButtonElement>('ask'),
  answer: element<HTMLParagraphElement>('answer'),
  prompt: element<HTMLInputElement>('prompt'),
  generate: element<HTMLButtonElement>('generate'),
  instruction: element<HTMLInputElement>('instruction'),
  edit: element<HTMLButtonElement>('edit'),
  size: element<HTMLSelectElement>('size'),
  steps: element<HTMLInputElement>('steps'),
  diffusionSteps: element<HTMLInputElement>('diffusion-steps'),
  guidance: element<HTMLInputElement>('guidance'),
  seed: element<HTMLInputElement>('seed'),
  runProgress: element<HTMLProgressElement>('run-progress'),
  runStatus: element<HTMLSpanElement>('run-status'),
  cancel: element<HTMLButtonElement>('cancel'),
  output: element<HTMLCanvasElement>('output'),
  download: element<HTMLAnchorElement>('download'),
};

/** `state` lands in `data-state` too: styles and tests read it. */
export function setStatus(target: HTMLElement, state: string, text: string): void {
  target.dataset.state = state;
  target.textContent = text;
}

export function showWarnings(warnings: readonly { code: string; message: string }[]): void {
  view.warnings.replaceChildren(
    ...warnings.map((warning) => {
      const item = document.createElement('li');
      item.textContent = warning.message;
      item.dataset.code = warning.code;
      return item;
    }),
  );
}

/** Paint a preview or the result on the output canvas (both have the same helpers). */
export function paint(image: { width: number; height: number; toImageData(): ImageData }): void {
  view.output.width = image.width;
  view.output.height = image.height;
  view.output.getContext('2d')?.putImageData(image.toImageData(), 0, 0);
}

export function offerDownload(blob: Blob): void {
  if (view.download.href) URL.revokeObjectURL(view.download.href);
  view.download.href = URL.createObjectURL(blob);
  view.download.hidden = false;
}

/** Read a number input; empty means "use the default". */
export function numberFrom(input: HTMLInputElement): number | undefined {
  return input.value === '' ? undefined : Number(input.value);
}
