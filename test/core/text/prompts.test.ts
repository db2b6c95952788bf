import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors/index.js';
import { editPrompts, textToImagePrompts, understandingPrompt, type PromptIds, type PromptPair } from '../../../src/core/text/prompts.js';
import { padPromptBatch } from '../../../src/core/text/prompt-batch.js';
import { pythonStrip } from '../../../src/core/text/python-strip.js';
import { qwenTokenizer, readFixture } from './support/qwen-tokenizer.js';

interface PromptCase {
  kind: 'text-to-image' | 'edit' | 'understand';
  prompt: string;
  imageLength?: number;
  ids: number[][];
  attentionMask: number[][];
}

// Oracle: the official scripts' recipe run through Hugging Face (INSTRUCTION.format, `<image>`
// repeated imageLength times, tokenizer.encode, right-pad with eos), by generate.py. Exact match.
const cases = readFixture<{ cases: PromptCase[] }>('prompts.json').cases;
const IMAGE = 151665;
const IM_END = 151645;

function rowsOf(pair: PromptPair): PromptIds[] {
  return [pair.conditional, pair.unconditional];
}

function checkImageRun(prompt: PromptIds, expectedIds: number[]): void {
  const first = expectedIds.indexOf(IMAGE);
  const count = expectedIds.filter((id) => id === IMAGE).length;
  expect(prompt.imageStart).toBe(first);
  expect(prompt.imageLength).toBe(count === 0 ? 0 : count);
}

describe('prompt builders against the official recipe in Hugging Face', () => {
  const tokenizer = qwenTokenizer();

  it('has cases of every kind', () => {
    expect(new Set(cases.map((sample) => sample.kind))).toEqual(new Set(['text-to-image', 'edit', 'understand']));
  });

  it.each(cases.map((sample, index) => [index, sample.kind, JSON.stringify(sample.prompt), sample] as const))('case %i: %s %s', (_index, kind, _label, sample) => {
    let rows: PromptIds[];
    if (kind === 'text-to-image') rows = rowsOf(textToImagePrompts(tokenizer, sample.prompt));
    else if (kind === 'edit') rows = rowsOf(editPrompts(tokenizer, sample.prompt, sample.imageLength!));
    else rows = [understandingPrompt(tokenizer, sample.prompt, sample.imageLength!)];
    const batch = padPromptBatch(rows, tokenizer.specialIds.imEnd);
    expect(batch.ids).toEqual(sample.ids);
    expect(batch.attentionMask).toEqual(sample.attentionMask);
    rows.forEach((row, index) => {
      checkImageRun(row, sample.ids[index]!.slice(0, row.ids.length));
      const expectedMask = sample.ids[index]!.map((id, position) => (id === IMAGE && position < row.ids.length ? 1 : 0));
      expect(batch.imageMask[index]).toEqual(expectedMask);
    });
  });
});

describe('chat template pieces', () => {
  const tokenizer = qwenTokenizer();

  it('encodes the user turn and the assistant tail as the spec states', () => {
    expect(tokenizer.encode('<|im_start|>user\n')).toEqual([151644, 872, 198]);
    expect(tokenizer.encode('<|im_end|>\n<|im_start|>assistant\n')).toEqual([151645, 198, 151644, 77091, 198]);
  });

  it('frames the text-to-image prompt with no system turn', () => {
    const pair = textToImagePrompts(tokenizer, 'a cat');
    const body = tokenizer.encode('Generate an image: a cat');
    expect(pair.conditional.ids).toEqual([151644, 872, 198, ...body, 151645, 198, 151644, 77091, 198]);
    expect(pair.unconditional.ids).toEqual(tokenizer.encode('<|im_start|>user\nGenerate an image.<|im_end|>\n<|im_start|>assistant\n'));
    expect(pair.conditional.imageStart).toBe(-1);
  });

  it('puts the image run right after the user turn and keeps the unconditional prompt overridable', () => {
    const pair = editPrompts(tokenizer, 'add a hat', 3, { unconditionalPrompt: '  Keep it.  ' });
    expect(pair.conditional.ids.slice(0, 6)).toEqual([151644, 872, 198, IMAGE, IMAGE, IMAGE]);
    expect(pair.conditional.imageStart).toBe(3);
    expect(pair.unconditional.ids.slice(6)).toEqual(tokenizer.encode('\nKeep it.<|im_end|>\n<|im_start|>assistant\n'));
  });

  it('rejects a typed <image> and bad image lengths', () => {
    expect(() => textToImagePrompts(tokenizer, 'a <image> here')).toThrow(InvalidInputError);
    expect(() => editPrompts(tokenizer, '<image>', 4)).toThrow(InvalidInputError);
    expect(() => understandingPrompt(tokenizer, 'what', 0)).toThrow(InvalidInputError);
    expect(() => understandingPrompt(tokenizer, 'what', 2.5)).toThrow(InvalidInputError);
  });
});

describe('padPromptBatch', () => {
  it('right-pads, masks the padding and marks image slots', () => {
    const batch = padPromptBatch(
      [
        { ids: [1, 2, 9, 9, 3], imageStart: 2, imageLength: 2 },
        { ids: [4, 5], imageStart: -1, imageLength: 0 },
      ],
      IM_END,
    );
    expect(batch.ids).toEqual([
      [1, 2, 9, 9, 3],
      [4, 5, IM_END, IM_END, IM_END],
    ]);
    expect(batch.attentionMask).toEqual([
      [1, 1, 1, 1, 1],
      [1, 1, 0, 0, 0],
    ]);
    expect(batch.imageMask).toEqual([
      [0, 0, 1, 1, 0],
      [0, 0, 0, 0, 0],
    ]);
    expect(batch.lengths).toEqual([5, 2]);
    expect(batch.length).toBe(5);
    expect(() => padPromptBatch([], IM_END)).toThrow(InvalidInputError);
  });
});

describe('pythonStrip', () => {
  // Expected values from Python 3.11's str.strip().
  it.each([
    ['  a b  ', 'a b'],
    ['\x1c\x85add\x1f', 'add'],
    ['\ufeffx\ufeff', '\ufeffx\ufeff'],
    ['\u3000\u00a0x\u2028', 'x'],
    ['\t\n\v\f\r', ''],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(pythonStrip(input)).toBe(expected);
  });
});
