/**
 * GPT-2 byte-level BPE alphabet: every byte maps to one printable code point so that byte strings
 * can be stored as vocabulary text. Printable Latin-1 bytes map to themselves; the other 68 bytes
 * map to U+0100 onwards in byte order.
 */
function buildByteToCharacter(): string[] {
  const table = new Array<string>(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = String.fromCharCode(printable ? byte : next++);
  }
  return table;
}

export const BYTE_TO_CHARACTER: readonly string[] = buildByteToCharacter();

const CHARACTER_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHARACTER.map((character, byte) => [character, byte]));

/**
 * Bytes of a byte-level vocabulary entry, or `undefined` when a character lies outside the
 * alphabet (then the entry is not byte-level text and callers fall back to its UTF-8 bytes, as the
 * Rust `ByteLevel` decoder does).
 */
export function byteLevelTextToBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) {
    const byte = CHARACTER_TO_BYTE.get(text[index]!);
    if (byte === undefined) return undefined;
    bytes[index] = byte;
  }
  return bytes;
}
