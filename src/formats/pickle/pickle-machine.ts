import { InvalidModelError } from '../../errors/invalid-model-error.js';
import {
  describePickleValue,
  PickleDict,
  PickleList,
  PickleObject,
  PickleTuple,
  type PickleKey,
  type PickleValue,
} from './pickle-values.js';

/** What the unpickler may touch besides plain data. Everything not granted here is refused. */
export interface PicklePolicy {
  /** Returns the object for an allowed global, or throws `InvalidModelError` naming it. */
  resolveGlobal(module: string, name: string): PickleObject;
  /** BINPERSID: turns a persistent id (PyTorch: a storage tuple) into a value. */
  persistentLoad(persistentId: PickleValue): PickleValue;
}

// Opcodes of protocols 0-5 that a torch.save state dict (and plain data beside it) uses.
const MARK = 0x28; // (
const STOP = 0x2e; // .
const POP = 0x30; // 0
const POP_MARK = 0x31; // 1
const DUP = 0x32; // 2
const BINFLOAT = 0x47; // G
const BININT = 0x4a; // J
const BININT1 = 0x4b; // K
const BININT2 = 0x4d; // M
const NONE = 0x4e; // N
const BINPERSID = 0x51; // Q
const REDUCE = 0x52; // R
const BINUNICODE = 0x58; // X
const SHORT_BINBYTES = 0x43; // C
const BINBYTES = 0x42; // B
const EMPTY_LIST = 0x5d; // ]
const APPEND = 0x61; // a
const BUILD = 0x62; // b
const GLOBAL = 0x63; // c
const DICT = 0x64; // d
const APPENDS = 0x65; // e
const BINGET = 0x68; // h
const LONG_BINGET = 0x6a; // j
const LIST = 0x6c; // l
const BINPUT = 0x71; // q
const LONG_BINPUT = 0x72; // r
const SETITEM = 0x73; // s
const TUPLE = 0x74; // t
const SETITEMS = 0x75; // u
const EMPTY_DICT = 0x7d; // }
const EMPTY_TUPLE = 0x29; // )
const PROTO = 0x80;
const TUPLE1 = 0x85;
const TUPLE2 = 0x86;
const TUPLE3 = 0x87;
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;
const LONG1 = 0x8a;
const LONG4 = 0x8b;
const SHORT_BINUNICODE = 0x8c;
const BINUNICODE8 = 0x8d;
const BINBYTES8 = 0x8e;
const STACK_GLOBAL = 0x93;
const MEMOIZE = 0x94;
const FRAME = 0x95;

const HIGHEST_PROTOCOL = 5;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A pickle virtual machine that only builds data. It never imports or calls Python: globals go
 * through the policy, which either hands back an inert stand-in or refuses. Every opcode consumes
 * at least one byte and all lengths are checked against the input, so it ends in linear time on
 * any input and fails only with `InvalidModelError`.
 */
export function unpickle(bytes: Uint8Array, policy: PicklePolicy, what = 'pickle'): PickleValue {
  return new PickleMachine(bytes, policy, what).run();
}

class PickleMachine {
  private position = 0;
  private stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly policy: PicklePolicy,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(message: string): never {
    throw new InvalidModelError(`${this.what}: ${message} (at byte ${this.position})`);
  }

  private take(count: number): Uint8Array {
    if (count < 0 || this.position + count > this.bytes.length) this.fail(`needs ${count} more bytes but the data ends`);
    const slice = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return slice;
  }

  private uint8(): number {
    return this.take(1)[0];
  }

  private uint16(): number {
    const offset = this.position;
    this.take(2);
    return this.view.getUint16(offset, true);
  }

  private uint32(): number {
    const offset = this.position;
    this.take(4);
    return this.view.getUint32(offset, true);
  }

  private uint64(): number {
    const offset = this.position;
    this.take(8);
    const high = this.view.getUint32(offset + 4, true);
    // Lengths past 2^53 cannot be honest: no input is that long.
    if (high > 0x1fffff) this.fail('a length field is impossibly large');
    return high * 2 ** 32 + this.view.getUint32(offset, true);
  }

  private text(length: number): string {
    try {
      return utf8.decode(this.take(length));
    } catch (cause) {
      if (cause instanceof InvalidModelError) throw cause;
      this.fail('a string is not valid UTF-8');
    }
  }

  /** GLOBAL's operands: two newline-terminated lines. */
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.position);
    if (end < 0) this.fail('GLOBAL operand has no newline');
    const value = this.text(end - this.position);
    this.position += 1;
    return value;
  }

  private push(value: PickleValue): void {
    this.stack.push(value);
  }

  private pop(): PickleValue {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack.pop() as PickleValue;
  }

  private top(): PickleValue {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }

  /** Items pushed since the last MARK, removing the mark. */
  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('no MARK to pop to');
    return this.stack.splice(mark);
  }

  private memoGet(index: number): PickleValue {
    if (!this.memo.has(index)) this.fail(`memo slot ${index} was never stored`);
    return this.memo.get(index) as PickleValue;
  }

  private key(value: PickleValue): PickleKey {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
      return value;
    }
    this.fail(`a ${describePickleValue(value)} cannot be a dict key here`);
  }

  private setItems(target: PickleValue, items: PickleValue[]): void {
    if (!(target instanceof PickleDict)) this.fail(`SETITEM on a ${describePickleValue(target)}`);
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) target.entries.set(this.key(items[i]), items[i + 1]);
  }

  private append(target: PickleValue, items: PickleValue[]): void {
    if (!(target instanceof PickleList)) this.fail(`APPEND on a ${describePickleValue(target)}`);
    for (const item of items) target.items.push(item);
  }

  private signedLittleEndian(data: Uint8Array): number | bigint {
    if (data.length === 0) return 0;
    let value = 0n;
    for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i]);
    if (data[data.length - 1] & 0x80) value -= 1n << BigInt(8 * data.length);
    const small = Number(value);
    return Number.isSafeInteger(small) ? small : value;
  }

  private global(module: string, name: string): PickleObject {
    const resolved = this.policy.resolveGlobal(module, name);
    if (!(resolved instanceof PickleObject)) this.fail(`global ${module}.${name} resolved to nothing`);
    return resolved;
  }

  run(): PickleValue {
    for (;;) {
      if (this.position >= this.bytes.length) this.fail('the pickle ends without STOP');
      const opcode = this.uint8();
      switch (opcode) {
        case PROTO: {
          const protocol = this.uint8();
          if (protocol > HIGHEST_PROTOCOL) this.fail(`unsupported pickle protocol ${protocol}`);
          break;
        }
        case FRAME:
          // Frames only group opcodes for buffered reading; the whole pickle is in memory.
          if (this.uint64() > this.bytes.length - this.position) this.fail('FRAME is longer than the data');
          break;
        case STOP:
          if (this.marks.length > 0 || this.stack.length !== 1) this.fail('STOP with a malformed stack');
          return this.stack[0];
        case MARK:
          this.marks.push(this.stack.length);
          break;
        case POP:
          // POP also drops a MARK that sits on top of the stack (CPython's semantics).
          if (this.marks.length > 0 && this.marks[this.marks.length - 1] === this.stack.length) this.marks.pop();
          else this.pop();
          break;
        case POP_MARK:
          this.popMark();
          break;
        case DUP:
          this.push(this.top());
          break;
        case NONE:
          this.push(null);
          break;
        case NEWTRUE:
          this.push(true);
          break;
        case NEWFALSE:
          this.push(false);
          break;
        case BININT:
          this.push(this.uint32() | 0);
          break;
        case BININT1:
          this.push(this.uint8());
          break;
        case BININT2:
          this.push(this.uint16());
          break;
        case LONG1:
          this.push(this.signedLittleEndian(this.take(this.uint8())));
          break;
        case LONG4: {
          const length = this.uint32();
          // Integers in a state dict are small; refuse the quadratic bigint parse of huge ones.
          if (length > 1024) this.fail(`LONG4 of ${length} bytes is larger than any checkpoint needs`);
          this.push(this.signedLittleEndian(this.take(length)));
          break;
        }
        case BINFLOAT: {
          const offset = this.position;
          this.take(8);
          this.push(this.view.getFloat64(offset, false));
          break;
        }
        case SHORT_BINUNICODE:
          this.push(this.text(this.uint8()));
          break;
        case BINUNICODE:
          this.push(this.text(this.uint32()));
          break;
        case BINUNICODE8:
          this.push(this.text(this.uint64()));
          break;
        case SHORT_BINBYTES:
          this.push(this.take(this.uint8()).slice());
          break;
        case BINBYTES:
          this.push(this.take(this.uint32()).slice());
          break;
        case BINBYTES8:
          this.push(this.take(this.uint64()).slice());
          break;
        case EMPTY_DICT:
          this.push(new PickleDict());
          break;
        case EMPTY_LIST:
          this.push(new PickleList());
          break;
        case EMPTY_TUPLE:
          this.push(new PickleTuple([]));
          break;
        case TUPLE:
          this.push(new PickleTuple(this.popMark()));
          break;
        case TUPLE1: {
          const a = this.pop();
          this.push(new PickleTuple([a]));
          break;
        }
        case TUPLE2: {
          const b = this.pop();
          const a = this.pop();
          this.push(new PickleTuple([a, b]));
          break;
        }
        case TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(new PickleTuple([a, b, c]));
          break;
        }
        case LIST: {
          const list = new PickleList();
          this.append(list, this.popMark());
          this.push(list);
          break;
        }
        case DICT: {
          const dict = new PickleDict();
          this.setItems(dict, this.popMark());
          this.push(dict);
          break;
        }
        case APPEND: {
          const item = this.pop();
          this.append(this.top(), [item]);
          break;
        }
        case APPENDS: {
          const items = this.popMark();
          this.append(this.top(), items);
          break;
        }
        case SETITEM: {
          const value = this.pop();
          const key = this.pop();
          this.setItems(this.top(), [key, value]);
          break;
        }
        case SETITEMS: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case BINPUT:
          this.memo.set(this.uint8(), this.top());
          break;
        case LONG_BINPUT:
          this.memo.set(this.uint32(), this.top());
          break;
        case MEMOIZE:
          this.memo.set(this.memo.size, this.top());
          break;
        case BINGET:
          this.push(this.memoGet(this.uint8()));
          break;
        case LONG_BINGET:
          this.push(this.memoGet(this.uint32()));
          break;
        case GLOBAL: {
          const module = this.line();
          const name = this.line();
          this.push(this.global(module, name));
          break;
        }
        case STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL operands are not strings');
          this.push(this.global(module, name));
          break;
        }
        case REDUCE: {
          const args = this.pop();
          const callable = this.pop();
          if (!(args instanceof PickleTuple)) this.fail(`REDUCE arguments are a ${describePickleValue(args)}, not a tuple`);
          if (!(callable instanceof PickleObject) || !callable.call) {
            this.fail(`REDUCE on ${describePickleValue(callable)}, which cannot be called`);
          }
          this.push(callable.call(args.items));
          break;
        }
        case BUILD: {
          const state = this.pop();
          const target = this.top();
          if (target instanceof PickleDict) target.state = state;
          else if (target instanceof PickleObject && target.setState) target.setState(state);
          else this.fail(`BUILD on a ${describePickleValue(target)}`);
          break;
        }
        case BINPERSID:
          this.push(this.policy.persistentLoad(this.pop()));
          break;
        default:
          this.fail(`opcode 0x${opcode.toString(16).padStart(2, '0')} is not allowed`);
      }
    }
  }
}
