import { PickleInput } from './pickle-input.js';
import { OPCODES } from './pickle-opcodes.js';
import { describePickleValue, PickleDict, PickleList, PickleObject, PickleTuple, type PickleKey, type PickleValue } from './pickle-values.js';

/** What the unpickler may touch besides plain data. Everything not granted here is refused. */
export interface PicklePolicy {
  /** Returns the object for an allowed global, or throws `InvalidModelError` naming it. */
  resolveGlobal(module: string, name: string): PickleObject;
  /** BINPERSID: turns a persistent id (PyTorch: a storage tuple) into a value. */
  persistentLoad(persistentId: PickleValue): PickleValue;
}

const HIGHEST_PROTOCOL = 5;

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
  private readonly input: PickleInput;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();

  constructor(
    bytes: Uint8Array,
    private readonly policy: PicklePolicy,
    what: string,
  ) {
    this.input = new PickleInput(bytes, what);
  }

  private fail(message: string): never {
    this.input.fail(message);
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
      if (this.input.atEnd) this.fail('the pickle ends without STOP');
      const opcode = this.input.uint8();
      switch (opcode) {
        case OPCODES.PROTO: {
          const protocol = this.input.uint8();
          if (protocol > HIGHEST_PROTOCOL) this.fail(`unsupported pickle protocol ${protocol}`);
          break;
        }
        case OPCODES.FRAME:
          // Frames only group opcodes for buffered reading; the whole pickle is in memory.
          if (this.input.uint64() > this.input.remaining) this.fail('FRAME is longer than the data');
          break;
        case OPCODES.STOP:
          if (this.marks.length > 0 || this.stack.length !== 1) this.fail('STOP with a malformed stack');
          return this.stack[0];
        case OPCODES.MARK:
          this.marks.push(this.stack.length);
          break;
        case OPCODES.POP:
          // POP also drops a MARK that sits on top of the stack (CPython's semantics).
          if (this.marks.length > 0 && this.marks[this.marks.length - 1] === this.stack.length) this.marks.pop();
          else this.pop();
          break;
        case OPCODES.POP_MARK:
          this.popMark();
          break;
        case OPCODES.DUP:
          this.push(this.top());
          break;
        case OPCODES.NONE:
          this.push(null);
          break;
        case OPCODES.NEWTRUE:
          this.push(true);
          break;
        case OPCODES.NEWFALSE:
          this.push(false);
          break;
        case OPCODES.BININT:
          this.push(this.input.uint32() | 0);
          break;
        case OPCODES.BININT1:
          this.push(this.input.uint8());
          break;
        case OPCODES.BININT2:
          this.push(this.input.uint16());
          break;
        case OPCODES.LONG1:
          this.push(this.signedLittleEndian(this.input.take(this.input.uint8())));
          break;
        case OPCODES.LONG4: {
          const length = this.input.uint32();
          // Integers in a state dict are small; refuse the quadratic bigint parse of huge ones.
          if (length > 1024) this.fail(`LONG4 of ${length} bytes is larger than any checkpoint needs`);
          this.push(this.signedLittleEndian(this.input.take(length)));
          break;
        }
        case OPCODES.BINFLOAT:
          this.push(this.input.float64BigEndian());
          break;
        case OPCODES.SHORT_BINUNICODE:
          this.push(this.input.text(this.input.uint8()));
          break;
        case OPCODES.BINUNICODE:
          this.push(this.input.text(this.input.uint32()));
          break;
        case OPCODES.BINUNICODE8:
          this.push(this.input.text(this.input.uint64()));
          break;
        case OPCODES.SHORT_BINBYTES:
          this.push(this.input.take(this.input.uint8()).slice());
          break;
        case OPCODES.BINBYTES:
          this.push(this.input.take(this.input.uint32()).slice());
          break;
        case OPCODES.BINBYTES8:
          this.push(this.input.take(this.input.uint64()).slice());
          break;
        case OPCODES.EMPTY_DICT:
          this.push(new PickleDict());
          break;
        case OPCODES.EMPTY_LIST:
          this.push(new PickleList());
          break;
        case OPCODES.EMPTY_TUPLE:
          this.push(new PickleTuple([]));
          break;
        case OPCODES.TUPLE:
          this.push(new PickleTuple(this.popMark()));
          break;
        case OPCODES.TUPLE1: {
          const a = this.pop();
          this.push(new PickleTuple([a]));
          break;
        }
        case OPCODES.TUPLE2: {
          const b = this.pop();
          const a = this.pop();
          this.push(new PickleTuple([a, b]));
          break;
        }
        case OPCODES.TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push(new PickleTuple([a, b, c]));
          break;
        }
        case OPCODES.LIST: {
          const list = new PickleList();
          this.append(list, this.popMark());
          this.push(list);
          break;
        }
        case OPCODES.DICT: {
          const dict = new PickleDict();
          this.setItems(dict, this.popMark());
          this.push(dict);
          break;
        }
        case OPCODES.APPEND: {
          const item = this.pop();
          this.append(this.top(), [item]);
          break;
        }
        case OPCODES.APPENDS: {
          const items = this.popMark();
          this.append(this.top(), items);
          break;
        }
        case OPCODES.SETITEM: {
          const value = this.pop();
          const key = this.pop();
          this.setItems(this.top(), [key, value]);
          break;
        }
        case OPCODES.SETITEMS: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case OPCODES.BINPUT:
          this.memo.set(this.input.uint8(), this.top());
          break;
        case OPCODES.LONG_BINPUT:
          this.memo.set(this.input.uint32(), this.top());
          break;
        case OPCODES.MEMOIZE:
          this.memo.set(this.memo.size, this.top());
          break;
        case OPCODES.BINGET:
          this.push(this.memoGet(this.input.uint8()));
          break;
        case OPCODES.LONG_BINGET:
          this.push(this.memoGet(this.input.uint32()));
          break;
        case OPCODES.GLOBAL: {
          const module = this.input.line();
          const name = this.input.line();
          this.push(this.global(module, name));
          break;
        }
        case OPCODES.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL operands are not strings');
          this.push(this.global(module, name));
          break;
        }
        case OPCODES.REDUCE: {
          const args = this.pop();
          const callable = this.pop();
          if (!(args instanceof PickleTuple)) this.fail(`REDUCE arguments are a ${describePickleValue(args)}, not a tuple`);
          if (!(callable instanceof PickleObject) || !callable.call) {
            this.fail(`REDUCE on ${describePickleValue(callable)}, which cannot be called`);
          }
          this.push(callable.call(args.items));
          break;
        }
        case OPCODES.BUILD: {
          const state = this.pop();
          const target = this.top();
          if (target instanceof PickleDict) target.state = state;
          else if (target instanceof PickleObject && target.setState) target.setState(state);
          else this.fail(`BUILD on a ${describePickleValue(target)}`);
          break;
        }
        case OPCODES.BINPERSID:
          this.push(this.policy.persistentLoad(this.pop()));
          break;
        default:
          this.fail(`opcode 0x${opcode.toString(16).padStart(2, '0')} is not allowed`);
      }
    }
  }
}
