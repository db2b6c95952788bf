import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { decodeSafetensors, MAX_SAFETENSORS_HEADER_BYTES } from '../../src/formats/safetensors.js';
import { encodeSafetensors } from '../../src/formats/safetensors-encoder.js';

/** A file with a hand-written header, so tests can make it lie. */
function rawFile(header: unknown, dataLength: number, headerLengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, headerLengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors encode/decode', () => {
  it('round-trips tensors of several dtypes bit for bit, with 8-byte aligned data and metadata', () => {
    const a = new Float32Array([1.5, -2, 3e-38, NaN]);
    const b = new Uint16Array([0x3c00, 0x7bff, 0x0001]);
    const c = new BigInt64Array([-1n, 2n ** 62n]);
    const file = encodeSafetensors(
      [
        { name: 'a', dtype: 'float32', shape: [2, 2], data: new Uint8Array(a.buffer) },
        { name: 'half', dtype: 'float16', shape: [3], data: new Uint8Array(b.buffer) },
        { name: 'ids', dtype: 'int64', shape: [2], data: new Uint8Array(c.buffer) },
        { name: 'empty', dtype: 'bfloat16', shape: [0, 4], data: new Uint8Array(0) },
      ],
      { format: 'pt' },
    );
    const { header, tensors } = decodeSafetensors(file);
    expect(header.dataStart % 8).toBe(0);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['a', 'half', 'ids', 'empty']);
    expect(tensors.get('a')?.shape).toEqual([2, 2]);
    expect([...tensors.get('a')!.bytes]).toEqual([...new Uint8Array(a.buffer)]);
    expect([...tensors.get('half')!.bytes]).toEqual([...new Uint8Array(b.buffer)]);
    expect([...tensors.get('ids')!.bytes]).toEqual([...new Uint8Array(c.buffer)]);
    expect(tensors.get('empty')?.bytes.length).toBe(0);
  });

  it('reads a file written by the Python safetensors library (0.8.0, numpy) bit for bit', () => {
    // safetensors.numpy.save({'w': float32 [[1, 2]], 'h': float16 [1.5, -0.25, 65504], 'i': int64 [-3, 2**40]},
    //                        metadata={'format': 'np'}): the reference writer sorts by dtype size and pads the header.
    const file = Uint8Array.from(
      Buffer.from(
        'c8000000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a226e70227d2c2269223a7b226474797065223a22493634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c31365d7d2c2277223a7b226474797065223a22463332222c227368617065223a5b312c325d2c22646174615f6f666673657473223a5b31362c32345d7d2c2268223a7b226474797065223a22463136222c227368617065223a5b335d2c22646174615f6f666673657473223a5b32342c33305d7d7d2020fdffffffffffffff00000000000100000000803f00000040003e00b4ff7b',
        'hex',
      ),
    );
    const { header, tensors } = decodeSafetensors(file);
    expect(header.metadata).toEqual({ format: 'np' });
    expect(tensors.get('w')?.dtype).toBe('float32');
    expect([...new Float32Array(tensors.get('w')!.bytes.slice().buffer)]).toEqual([1, 2]);
    expect([...new Uint16Array(tensors.get('h')!.bytes.slice().buffer)]).toEqual([0x3e00, 0xb400, 0x7bff]);
    expect([...new BigInt64Array(tensors.get('i')!.bytes.slice().buffer)]).toEqual([-3n, 2n ** 40n]);
    // Our encoder, given the same tensors in the reference's order, writes the same bytes.
    const again = encodeSafetensors(
      [...tensors].map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape, data: tensor.bytes })),
      { format: 'np' },
    );
    expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(file).toString('hex'));
  });

  it('refuses writer input whose bytes do not match the shape', () => {
    expect(() => encodeSafetensors([{ name: 'a', dtype: 'float32', shape: [3], data: new Uint8Array(8) }])).toThrow(InvalidModelError);
    expect(() =>
      encodeSafetensors([
        { name: 'a', dtype: 'uint8', shape: [1], data: new Uint8Array(1) },
        { name: 'a', dtype: 'uint8', shape: [1], data: new Uint8Array(1) },
      ]),
    ).toThrow(/repeated/);
  });
});

describe('safetensors headers that lie', () => {
  const entry = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });
  const lies: Array<[string, Uint8Array, RegExp]> = [
    ['offsets past the end of the file', rawFile({ a: entry('F32', [4], [0, 16]) }, 8), /need 16 data bytes but the file holds 8/],
    ['a size that does not match shape × dtype', rawFile({ a: entry('F32', [3], [0, 8]) }, 8), /needs 12/],
    ['overlapping tensors', rawFile({ a: entry('U8', [8], [0, 8]), b: entry('U8', [4], [4, 8]) }, 8), /overlaps/],
    ['a hole between tensors', rawFile({ a: entry('U8', [2], [0, 2]), b: entry('U8', [2], [4, 6]) }, 6), /belong to no tensor/],
    ['trailing bytes no tensor owns', rawFile({ a: entry('U8', [2], [0, 2]) }, 10), /trailing/],
    ['backwards offsets', rawFile({ a: entry('U8', [0], [4, 2]) }, 4), /backwards/],
    ['negative offsets', rawFile({ a: entry('U8', [2], [-2, 0]) }, 4), /data_offsets/],
    ['an unknown dtype', rawFile({ a: entry('F8_E4M3', [2], [0, 2]) }, 2), /unsupported dtype/],
    ['a negative dimension', rawFile({ a: entry('U8', [-2], [0, 0]) }, 0), /invalid dimension/],
    ['a fractional dimension', rawFile({ a: entry('U8', [1.5], [0, 0]) }, 0), /invalid dimension/],
    ['an element count past 2^53', rawFile({ a: entry('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 0]) }, 0), /too many elements/],
    ['an extra field', rawFile({ a: { ...entry('U8', [1], [0, 1]), evil: 1 } }, 1), /unknown field/],
    ['non-string metadata', rawFile({ __metadata__: { n: 1 } }, 0), /__metadata__/],
    ['a header that is not JSON', rawFile('{"a": ', 0), /not valid UTF-8 JSON/],
    ['a header that is a JSON array', rawFile('[1, 2]', 0), /not a JSON object/],
    ['a header length larger than the file', rawFile({}, 0, 5000n), /runs past the end/],
    ['a huge header length', rawFile({}, 0, BigInt(MAX_SAFETENSORS_HEADER_BYTES + 1)), /exceeds/],
    ['a header length of 2^63', rawFile({}, 0, 2n ** 63n), /exceeds/],
    ['fewer than 8 bytes', new Uint8Array(5), /too short/],
  ];
  for (const [label, file, pattern] of lies) {
    it(`refuses ${label}`, () => {
      expect(() => decodeSafetensors(file)).toThrow(InvalidModelError);
      expect(() => decodeSafetensors(file)).toThrow(pattern);
    });
  }
});

describe('safetensors parser on random input (bounded property tests)', () => {
  const onlyInvalidModel = (bytes: Uint8Array): boolean => {
    try {
      decodeSafetensors(bytes);
    } catch (error) {
      if (!(error instanceof InvalidModelError)) throw error;
    }
    return true;
  };

  it('random bytes fail only with InvalidModelError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), onlyInvalidModel), { numRuns: 3000, interruptAfterTimeLimit: 15_000, seed: 3 });
  });

  it('random JSON headers fail only with InvalidModelError', () => {
    const header = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
    fc.assert(
      fc.property(header, fc.nat(64), (json, dataLength) => onlyInvalidModel(rawFile(json, dataLength))),
      { numRuns: 2000, interruptAfterTimeLimit: 15_000, seed: 4 },
    );
  });

  it('byte flips of a valid file either parse or fail with InvalidModelError, and a parse stays within the file', () => {
    const valid = encodeSafetensors([
      { name: 'a', dtype: 'float32', shape: [2, 3], data: new Uint8Array(24) },
      { name: 'b', dtype: 'int64', shape: [1], data: new Uint8Array(8) },
    ]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (edits) => {
        const bytes = valid.slice();
        for (const [index, value] of edits) bytes[index] = value;
        try {
          const { header, tensors } = decodeSafetensors(bytes);
          for (const info of header.tensors) expect(header.dataStart + info.end).toBeLessThanOrEqual(bytes.length);
          expect(tensors.size).toBe(header.tensors.length);
        } catch (error) {
          if (!(error instanceof InvalidModelError)) throw error;
        }
        return true;
      }),
      { numRuns: 3000, interruptAfterTimeLimit: 15_000, seed: 8 },
    );
  });
});
