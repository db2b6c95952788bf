import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { unpickle, type PicklePolicy } from '../../src/formats/pickle/pickle-machine.js';
import { PickleDict, PickleList, PickleTuple, type PickleValue } from '../../src/formats/pickle/pickle-values.js';
import { torchPicklePolicy } from '../../src/formats/torch/torch-pickle-policy.js';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

/** Plain data only: every global is refused. */
const dataOnly: PicklePolicy = {
  resolveGlobal(module, name) {
    throw new InvalidModelError(`global ${module}.${name} refused`);
  },
  persistentLoad() {
    throw new InvalidModelError('no persistent ids here');
  },
};

/** Pickle values → plain JS for comparison (tuples become { tuple: [...] }). */
function plain(value: PickleValue): unknown {
  if (value instanceof PickleDict) return Object.fromEntries([...value.entries].map(([key, item]) => [String(key), plain(item)]));
  if (value instanceof PickleList) return value.items.map(plain);
  if (value instanceof PickleTuple) return { tuple: value.items.map(plain) };
  if (value instanceof Uint8Array) return { bytes: [...value] };
  return value;
}

// The oracle: CPython 3.11 `pickle.dumps(d, protocol=p)` of
// d = {'a': [1, -2, 300, 70000, -70000, 2**40, 2**70, -2**70, 2.5, 'héllo', None, True, False,
//            (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ()], 'b': {'n': {}}, 3: 'int key'}
// (protocol 4 adds b'by' after False and so exercises FRAME, MEMOIZE, SHORT_BINUNICODE, SHORT_BINBYTES).
const PROTOCOL_2 =
  '80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101004a90eefeff8a060000000000018a090000000000000000408a090000000000000000c0474004000000000000580600000068c3a96c6c6f71034e88894b018571044b014b028671054b014b024b03877106284b014b024b034b04747107296558010000006271087d710958010000006e710a7d710b734b035807000000696e74206b6579710c752e';
const PROTOCOL_4 =
  '80049590000000000000007d94288c0161945d94284b014afeffffff4d2c014a701101004a90eefeff8a060000000000018a090000000000000000408a090000000000000000c04740040000000000008c0668c3a96c6c6f944e888943026279944b0185944b014b0286944b014b024b038794284b014b024b034b04749429658c0162947d948c016e947d94734b038c07696e74206b657994752e';

function expected(withBytes: boolean): unknown {
  const list: unknown[] = [1, -2, 300, 70000, -70000, 2 ** 40, 2n ** 70n, -(2n ** 70n), 2.5, 'héllo', null, true, false];
  if (withBytes) list.push({ bytes: [0x62, 0x79] });
  list.push({ tuple: [1] }, { tuple: [1, 2] }, { tuple: [1, 2, 3] }, { tuple: [1, 2, 3, 4] }, { tuple: [] });
  return { a: list, b: { n: {} }, 3: 'int key' };
}

describe('unpickle (plain data, CPython as the oracle)', () => {
  it('reads a protocol 2 pickle exactly', () => {
    expect(plain(unpickle(hex(PROTOCOL_2), dataOnly))).toEqual(expected(false));
  });

  it('reads a protocol 4 pickle (frames, memoize, short strings and bytes) exactly', () => {
    expect(plain(unpickle(hex(PROTOCOL_4), dataOnly))).toEqual(expected(true));
  });

  it('keeps memo references as the same object (a list containing itself)', () => {
    // pickle.dumps(l, 2) where l = []; l.append(l)
    const value = unpickle(hex('80025d71006800612e'), dataOnly);
    expect(value).toBeInstanceOf(PickleList);
    expect((value as PickleList).items[0]).toBe(value);
  });
});

describe('unpickle refuses what a weights file must not contain', () => {
  const refusals: Array<[string, string, RegExp]> = [
    // pickle.dumps(E(), 2) with E.__reduce__ = (os.system, ('echo pwned',)): CPython names it posix.system.
    ['posix.system via GLOBAL', '800263706f7369780a73797374656d0a7100580a0000006563686f2070776e656471018571025271032e', /posix\.system/],
    // The same object at protocol 4: STACK_GLOBAL.
    ['posix.system via STACK_GLOBAL', '80049525000000000000008c05706f736978948c0673797374656d9493948c0a6563686f2070776e656494859452942e', /posix\.system/],
    // Hand-made: GLOBAL 'os\nsystem\n' called with 'id'.
    ['os.system', `8002${Buffer.from('cos\nsystem\n').toString('hex')}5802000000696485522e`, /"os\.system"/],
    // pickle.dumps of (eval, ('1+1',)) at protocol 2: Python 2's name, __builtin__.eval.
    ['__builtin__.eval', '8002635f5f6275696c74696e5f5f0a6576616c0a71005803000000312b3171018571025271032e', /__builtin__\.eval/],
    // Hand-made protocol 4: STACK_GLOBAL builtins.eval.
    [
      'builtins.eval',
      `8004${`8c08${Buffer.from('builtins').toString('hex')}`}${`8c04${Buffer.from('eval').toString('hex')}`}938c03312b318552942e`,
      /builtins\.eval/,
    ],
  ];
  for (const [label, bytes, pattern] of refusals) {
    it(`refuses ${label} with InvalidModelError naming the global`, () => {
      let executed = false;
      const policy: PicklePolicy = {
        resolveGlobal: (module, name) => torchPicklePolicy.resolveGlobal(module, name),
        persistentLoad: () => {
          executed = true;
          return null;
        },
      };
      expect(() => unpickle(hex(bytes), policy)).toThrow(InvalidModelError);
      expect(() => unpickle(hex(bytes), policy)).toThrow(pattern);
      expect(executed).toBe(false);
    });
  }

  it('refuses opcodes outside the allowed set (INST, OBJ, NEWOBJ, EXT1)', () => {
    for (const opcode of ['69', '6f', '81', '82']) {
      expect(() => unpickle(hex(`8002${opcode}2e`), dataOnly)).toThrow(/opcode 0x/);
    }
  });

  it('refuses calling a value that is not an allowed callable', () => {
    // REDUCE on a string with an empty tuple.
    expect(() => unpickle(hex('8002580100000061' + '29' + '52' + '2e'), dataOnly)).toThrow(/cannot be called/);
  });

  it('reports truncation, stack underflow, bad memo and bad UTF-8 as InvalidModelError', () => {
    const cases = ['8002', '80025d', '8002612e', '80026805 2e'.replace(' ', ''), '80028c02ffff2e', '8002580a000000612e', '80022e', '800628292e'];
    for (const bytes of cases) expect(() => unpickle(hex(bytes), dataOnly), bytes).toThrow(InvalidModelError);
  });
});

describe('unpickle on random input (bounded property tests)', () => {
  const onlyInvalidModel = (bytes: Uint8Array, policy: PicklePolicy): boolean => {
    try {
      unpickle(bytes, policy);
    } catch (error) {
      if (!(error instanceof InvalidModelError)) throw error;
    }
    return true;
  };

  it('random bytes fail only with InvalidModelError and quickly', () => {
    const started = Date.now();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => onlyInvalidModel(bytes, torchPicklePolicy)),
      { numRuns: 3000, interruptAfterTimeLimit: 20_000, seed: 20250801 },
    );
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it('random opcode soups (valid opcodes, random operands) fail only with InvalidModelError', () => {
    const opcodes = [
      0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x47, 0x4a, 0x4b, 0x4d, 0x4e, 0x51, 0x52, 0x58, 0x5d, 0x61, 0x62, 0x63, 0x64, 0x65, 0x68, 0x6a, 0x6c, 0x71, 0x72, 0x73,
      0x74, 0x75, 0x7d, 0x80, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x93, 0x94, 0x95,
    ];
    const piece = fc.tuple(fc.constantFrom(...opcodes), fc.uint8Array({ maxLength: 3 })).map(([opcode, tail]) => [opcode, ...tail]);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 200 }), (pieces) => onlyInvalidModel(Uint8Array.from([0x80, 2, ...pieces.flat()]), torchPicklePolicy)),
      { numRuns: 3000, interruptAfterTimeLimit: 20_000, seed: 7 },
    );
  });

  it('flipping bytes of a valid pickle fails only with InvalidModelError', () => {
    const valid = hex(PROTOCOL_4);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const bytes = valid.slice();
        for (const [index, value] of edits) bytes[index] = value;
        return onlyInvalidModel(bytes, dataOnly);
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 20_000, seed: 99 },
    );
  });
});
