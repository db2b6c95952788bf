import { describe, expect, it } from 'vitest';
import { editPrompt, expandImagePad, generatePrompt, understandPrompt } from '../../../src/families/unipic2-metaquery/text/chat-templates.js';
import { qwenTokenizer } from '../../core/text/support/qwen-tokenizer.js';
import { mqInt, mqNotes } from './support/goldens.js';

describe('Metaquery chat templates and token ids against the oracle', () => {
  const tokenizer = qwenTokenizer();
  const t2i = mqNotes['t2i.texts'] as string[];
  const edit = mqNotes['edit.texts'] as string[];

  it('renders the three paths as the scripts do (system clause removed)', () => {
    expect(understandPrompt('Describe the image in detail.', true)).toBe(mqNotes['understand.text']);
    expect([generatePrompt('a red cube on a wooden table'), generatePrompt('')]).toEqual(t2i);
    expect([editPrompt('make the sky purple'), editPrompt('blurry, low quality')]).toEqual(edit);
  });

  it('token ids equal the Python processor, image pads expanded per merged token', () => {
    expect(tokenizer.encode(t2i[0])).toEqual(mqInt('t2i.input_ids.0'));
    expect(tokenizer.encode(t2i[1])).toEqual(mqInt('t2i.input_ids.1'));
    expect(tokenizer.encode(expandImagePad(edit[0], 80))).toEqual(mqInt('edit.input_ids.0'));
    expect(tokenizer.encode(expandImagePad(edit[1], 80))).toEqual(mqInt('edit.input_ids.1'));
    expect(tokenizer.encode(expandImagePad(mqNotes['understand.text'] as string, 99))).toEqual(mqInt('understand.input_ids'));
  });
});
