/**
 * What transformers' slow `CLIPTokenizer` does to text before BPE when `ftfy` is not installed
 * (the official environment): BERT's `BasicTokenizer(strip_accents=False, do_split_on_punc=False)`
 * — drop NUL, U+FFFD and control characters, map whitespace to spaces, put spaces around every CJK
 * ideograph — then joins its whitespace-split pieces with single spaces. The rest (NFC, lowercase,
 * the CLIP split) is in the tokenizer.json. Without this pass CJK text tokenizes differently from
 * the pipeline (a run of ideographs would be one BPE word instead of one word per character).
 */
export function basicTokenizerPrepass(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const cp = char.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(char)) continue;
    if (isWhitespace(char)) out += ' ';
    else if (isCjk(cp)) out += ` ${char} `;
    else out += char;
  }
  return out
    .split(' ')
    .filter((piece) => piece.length > 0)
    .join(' ');
}

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || /^\p{Zs}$/u.test(char);
}

function isControl(char: string): boolean {
  if (char === '\t' || char === '\n' || char === '\r') return false;
  return /^[\p{Cc}\p{Cf}]$/u.test(char);
}

// BERT's `_is_chinese_char`: CJK Unified Ideographs and their extensions and compatibility blocks
// (not Hiragana, Katakana or Hangul).
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
