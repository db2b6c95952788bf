import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/errors/index.js';
import { TextStream, type TextStreamOptions } from '../../../src/core/text/text-stream.js';
import { qwenTokenizer, readFixture, type CorpusEntry, type DecodeCase } from './support/qwen-tokenizer.js';

// Oracle for the concatenated deltas: Hugging Face's decode of the whole sequence (fixtures).
const corpus = readFixture<{ entries: CorpusEntry[] }>('corpus.json').entries;
const decodeCases = readFixture<{ cases: DecodeCase[] }>('decode-cases.json').cases;
const sequences = [...corpus.map((entry) => ({ ids: entry.ids, decoded: entry.decoded, decodedSkipSpecial: entry.decodedSkipSpecial })), ...decodeCases];

function streamAll(ids: readonly number[], options: TextStreamOptions): { deltas: string[]; stream: TextStream } {
  const stream = new TextStream(qwenTokenizer(), options);
  const deltas: string[] = [];
  for (const id of ids) deltas.push(stream.push(id).delta);
  deltas.push(stream.finish().delta);
  return { deltas, stream };
}

function isWellFormed(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

describe('TextStream without stop strings', () => {
  it('joins to the full Hugging Face decode for every corpus and decode case, token by token', () => {
    for (const sequence of sequences) {
      const keep = streamAll(sequence.ids, { skipSpecialTokens: false });
      expect(keep.deltas.join(''), JSON.stringify(sequence.ids)).toBe(sequence.decoded);
      expect(keep.stream.text).toBe(sequence.decoded);
      const skip = streamAll(sequence.ids, {});
      expect(skip.deltas.join(''), JSON.stringify(sequence.ids)).toBe(sequence.decodedSkipSpecial);
      for (const delta of [...keep.deltas, ...skip.deltas]) expect(isWellFormed(delta)).toBe(true);
    }
  });

  it('holds back the bytes of a character split across tokens', () => {
    const tokenizer = qwenTokenizer();
    // "👨‍👩‍👧‍👦" is several byte-level tokens, some ending inside a UTF-8 sequence.
    const ids = tokenizer.encode('👨‍👩‍👧‍👦');
    const stream = new TextStream(tokenizer);
    const deltas = ids.map((id) => stream.push(id).delta);
    expect(deltas.some((delta) => delta === '')).toBe(true);
    expect(deltas.join('')).toBe('👨‍👩‍👧‍👦');
    expect(deltas.join('')).not.toContain('\ufffd');
  });

  it('turns a dangling partial character into U+FFFD only at finish', () => {
    const tokenizer = qwenTokenizer();
    const lead = tokenizer.tokenToId('ð')!; // byte 0xF0 alone
    const stream = new TextStream(tokenizer);
    expect(stream.push(lead).delta).toBe('');
    expect(stream.finish().delta).toBe('\ufffd');
    expect(stream.push(lead)).toEqual({ delta: '', stopped: false });
  });
});

describe('TextStream with stop strings', () => {
  const tokenizer = qwenTokenizer();

  function run(text: string, stopStrings: string[]) {
    const ids = tokenizer.encode(text);
    const stream = new TextStream(tokenizer, { stopStrings });
    const deltas: string[] = [];
    let consumed = 0;
    for (const id of ids) {
      const update = stream.push(id);
      deltas.push(update.delta);
      consumed++;
      if (update.stopped) break;
    }
    if (!stream.stopped) deltas.push(stream.finish().delta);
    return { deltas, stream, consumed, total: ids.length };
  }

  it('stops at a stop string, trims it, and emits nothing of it', () => {
    const result = run('Answer: yes\n\nUser: more', ['\n\nUser:']);
    expect(result.deltas.join('')).toBe('Answer: yes');
    expect(result.stream.stopped).toBe(true);
    expect(result.stream.stopString).toBe('\n\nUser:');
    expect(result.consumed).toBeLessThan(result.total);
  });

  it('never emits text that later turns out to start a stop string', () => {
    const result = run('one END two', ['END']);
    for (const delta of result.deltas) expect(delta).not.toMatch(/E/);
    expect(result.deltas.join('')).toBe('one ');
  });

  it('releases held-back text when the stop string does not complete', () => {
    const result = run('a En and an ENd', ['END']);
    expect(result.stream.stopped).toBe(false);
    expect(result.deltas.join('')).toBe('a En and an ENd');
  });

  it('stops on the stop string that completes first', () => {
    // "b" completes before "abcd" does, although "abcd" starts earlier.
    expect(run('xabcd', ['abcd', 'b']).deltas.join('')).toBe('xa');
    expect(run('xabcd', ['abcd', 'zz']).deltas.join('')).toBe('x');
  });

  it('matches stop strings in the text with special tokens skipped', () => {
    const ids = [...tokenizer.encode('foo'), 151645, ...tokenizer.encode('bar baz')];
    const stream = new TextStream(tokenizer, { stopStrings: ['foobar'] });
    let text = '';
    for (const id of ids) text += stream.push(id).delta;
    expect(stream.stopped).toBe(true);
    expect(text).toBe('');
  });

  it('rejects empty stop strings', () => {
    expect(() => new TextStream(tokenizer, { stopStrings: [''] })).toThrow(InvalidOptionsError);
  });

  it('equals the full decode cut before the first completed stop string (corpus property)', () => {
    const texts = corpus.filter((entry) => entry.decodedSkipSpecial.length >= 4);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: texts.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 3 }),
        (which, picks) => {
          const entry = texts[which]!;
          const full = entry.decodedSkipSpecial;
          const points = [...full]; // code points, so stops are well-formed strings
          const stops = picks.map(([start, length]) => {
            const from = start % points.length;
            return points.slice(from, from + length).join('');
          });
          // Independent oracle: the stop whose first occurrence ends first (ties: starts first).
          let cut = full.length;
          let bestEnd = Infinity;
          for (const stop of stops) {
            const index = full.indexOf(stop);
            const end = index + stop.length;
            if (end < bestEnd || (end === bestEnd && index < cut)) {
              bestEnd = end;
              cut = index;
            }
          }
          const stream = new TextStream(tokenizer, { stopStrings: stops });
          let text = '';
          for (const id of entry.ids) text += stream.push(id).delta;
          text += stream.finish().delta;
          expect(stream.stopped).toBe(true);
          expect(text).toBe(full.slice(0, cut));
        },
      ),
      { numRuns: 400, seed: 20250815 },
    );
  });
});
