/**
 * console (https://console.spec.whatwg.org/): every call becomes one formatted line sent to the host
 * with host('log', level, line). V8's own `console` in a bare context prints nowhere; this replaces it.
 */
import type { LogLevel } from '../host.d.ts';
import { hostLog } from '../bridge.ts';
import {
  ArrayPrototypeJoin,
  DateNow,
  ErrorCaptureStackTrace,
  ObjectCreate,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  StringPrototypeSplit,
} from '../primordials.ts';
import { formatLine, truncate } from './format.ts';
import { inspect } from './inspect.ts';

let groupIndent = '';
const counts: Record<string, number> = ObjectCreate(null);
const timers: Record<string, number> = ObjectCreate(null);

function emit(level: LogLevel, line: string): void {
  if (groupIndent !== '') line = groupIndent + ArrayPrototypeJoin(StringPrototypeSplit(line, '\n'), `\n${groupIndent}`);
  hostLog(level, truncate(line));
}

function logger(level: LogLevel): (...args: unknown[]) => void {
  // Named functions so that stack traces through console read naturally.
  return {
    [level](...args: unknown[]): void {
      emit(level, formatLine(args));
    },
  }[level]!;
}

function label(value: unknown): string {
  return value === undefined ? 'default' : `${value as string}`;
}

function group(...args: unknown[]): void {
  if (args.length > 0) emit('log', formatLine(args));
  groupIndent += '  ';
}

export const console = {
  log: logger('log'),
  info: logger('info'),
  warn: logger('warn'),
  error: logger('error'),
  debug: logger('debug'),
  trace(...args: unknown[]): void {
    const holder: { stack?: string } = {};
    ErrorCaptureStackTrace(holder, console.trace);
    const stack = holder.stack ?? '';
    const frames = StringPrototypeSlice(stack, StringPrototypeIndexOf(stack, '\n') + 1);
    emit('log', `Trace${args.length > 0 ? `: ${formatLine(args)}` : ''}\n${frames}`);
  },
  assert(condition?: unknown, ...args: unknown[]): void {
    if (condition) return;
    emit('error', args.length > 0 ? `Assertion failed: ${formatLine(args)}` : 'Assertion failed');
  },
  dir(value?: unknown): void {
    emit('log', inspect(value));
  },
  table(...args: unknown[]): void {
    // No tables in a log line: print the data instead.
    emit('log', formatLine(args));
  },
  count(name?: unknown): void {
    const key = label(name);
    counts[key] = (counts[key] ?? 0) + 1;
    emit('info', `${key}: ${counts[key]}`);
  },
  countReset(name?: unknown): void {
    const key = label(name);
    if (counts[key] === undefined) emit('warn', `Count for '${key}' does not exist`);
    else counts[key] = 0;
  },
  time(name?: unknown): void {
    const key = label(name);
    if (timers[key] !== undefined) emit('warn', `Timer '${key}' already exists`);
    else timers[key] = DateNow();
  },
  timeLog(name?: unknown, ...args: unknown[]): void {
    const key = label(name);
    const start = timers[key];
    if (start === undefined) emit('warn', `Timer '${key}' does not exist`);
    else emit('info', `${key}: ${DateNow() - start}ms${args.length > 0 ? ` ${formatLine(args)}` : ''}`);
  },
  timeEnd(name?: unknown): void {
    const key = label(name);
    const start = timers[key];
    if (start === undefined) return emit('warn', `Timer '${key}' does not exist`);
    delete timers[key];
    emit('info', `${key}: ${DateNow() - start}ms`);
  },
  group,
  groupCollapsed: group,
  groupEnd(): void {
    groupIndent = StringPrototypeSlice(groupIndent, 2);
  },
  // The rest of the Console standard (and V8's) does nothing in a log made of lines; present so that
  // code calling them does not throw (workerd has them too).
  dirxml(...args: unknown[]): void {
    emit('log', formatLine(args));
  },
  clear(): void {},
  profile(): void {},
  profileEnd(): void {},
  timeStamp(): void {},
};

/** For `reportError` and uncaught errors of timers and microtasks. */
export function logUncaught(error: unknown): void {
  emit('error', `Uncaught ${inspect(error, { quoteStrings: true })}`);
}
