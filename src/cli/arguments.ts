import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage mistake on the command line: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--steps -5`: node's parser reads `-5` as an option; a negative number is a value (then a range error). */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/**
 * node's parser explains itself at length with unbalanced quotes ("Unknown option '--x'. To
 * specify a positional argument starting with a '-', place it … as in '-- \"--x\"'"): keep the
 * first sentence, and say how to pass a value that starts with a dash.
 */
function usageMessage(message: string): string {
  const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous) return `the value of ${ambiguous[1]} starts with "-": write it as ${ambiguous[1]}=<value>`;
  return (message.split(/\.\s/)[0] ?? message).replace(/'/g, '');
}

export function parse<const O extends Options>(args: string[], options: O, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(usageMessage((error as Error).message));
  }
  if (parsed.positionals.length !== positionals) throw new UsageError(`expected ${positionals} positional argument(s), got ${parsed.positionals.length}`);
  return parsed;
}

/** Bounds of a numeric option, as the SDK's schema has them (shown in --help, checked here). */
export interface NumberRange {
  readonly min?: number;
  /** `min` itself is refused (e.g. temperature > 0). */
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  /** `max` itself is refused (e.g. a mask threshold < 1). */
  readonly exclusiveMax?: boolean;
  readonly integer?: boolean;
}

export function numberOption(value: string | undefined, name: string, range: NumberRange = {}): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  const { min, max, integer, exclusiveMin, exclusiveMax } = range;
  const belowMin = min !== undefined && (exclusiveMin ? parsed <= min : parsed < min);
  const aboveMax = max !== undefined && (exclusiveMax ? parsed >= max : parsed > max);
  if (belowMin || aboveMax || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`--${name} must be ${describeRange(range)}, got ${value}`);
  }
  return parsed;
}

export function describeRange({ min, max, integer, exclusiveMin, exclusiveMax }: NumberRange): string {
  const kind = integer ? 'a whole number' : 'a number';
  if (min !== undefined && max !== undefined) {
    const upper = exclusiveMax ? `below ${max}` : `at most ${max}`;
    if (exclusiveMin) return `${kind} above ${min}, ${upper}`;
    return exclusiveMax ? `${kind} of at least ${min}, ${upper}` : `${kind} from ${min} to ${max}`;
  }
  if (min !== undefined) return exclusiveMin ? `${kind} above ${min}` : `${kind} of at least ${min}`;
  if (max !== undefined) return `${kind} of at most ${max}`;
  return kind;
}

export function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}
