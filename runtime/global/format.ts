/**
 * console's argument formatting, as Node's util.format: a leading string may hold `%s %d %i %f
 * %j %o %O %c %%` directives; other arguments follow separated by spaces, strings raw, everything
 * else through inspect(). One call gives one line, cut at MAX_LINE characters.
 */
import {
  JSONStringify,
  NumberIsNaN,
  StringPrototypeCharCodeAt,
  StringPrototypeIndexOf,
  StringPrototypeSlice,
  MathTrunc,
} from '../primordials.ts';
import { inspect } from './inspect.ts';

export const MAX_LINE = 16 * 1024;

export function formatLine(args: ArrayLike<unknown>, start = 0): string {
  let out = '';
  let index = start;
  const first = args[start];
  if (typeof first === 'string' && args.length > start + 1) {
    index++;
    let last = 0;
    let at = StringPrototypeIndexOf(first, '%');
    while (at !== -1 && at + 1 < first.length) {
      const directive = StringPrototypeCharCodeAt(first, at + 1);
      let replacement: string | null = null;
      if (directive === 0x25 /* % */) {
        replacement = '%';
      } else if (index < args.length) {
        const arg = args[index];
        switch (directive) {
          case 0x73 /* s */:
            replacement = typeof arg === 'string' ? arg : typeof arg === 'bigint' ? `${arg}n` : inspect(arg, { depth: 1 });
            break;
          case 0x64 /* d */:
          case 0x69 /* i */: {
            const number = typeof arg === 'bigint' ? arg : typeof arg === 'symbol' ? NaN : +(arg as number);
            replacement =
              typeof number === 'bigint' ? `${number}n` : directive === 0x69 && !NumberIsNaN(number) ? `${MathTrunc(number)}` : inspect(number);
            break;
          }
          case 0x66 /* f */:
            replacement = typeof arg === 'symbol' ? 'NaN' : typeof arg === 'bigint' ? `${arg}` : `${+(arg as number)}`;
            break;
          case 0x6a /* j */:
            try {
              replacement = `${JSONStringify(arg)}`;
            } catch {
              replacement = '[Circular]';
            }
            break;
          case 0x6f /* o */:
          case 0x4f /* O */:
            replacement = inspect(arg, { depth: directive === 0x6f ? 4 : 2 });
            break;
          case 0x63 /* c */:
            replacement = ''; // CSS has no meaning in a log line
            break;
        }
        if (replacement !== null && directive !== 0x25) index++;
      }
      if (replacement !== null) {
        out += StringPrototypeSlice(first, last, at) + replacement;
        last = at + 2;
        at = StringPrototypeIndexOf(first, '%', last);
      } else {
        at = StringPrototypeIndexOf(first, '%', at + 1);
      }
      if (out.length > MAX_LINE) break;
    }
    out += StringPrototypeSlice(first, last);
  }
  for (; index < args.length && out.length <= MAX_LINE; index++) {
    const arg = args[index];
    if (index > start) out += ' ';
    out += typeof arg === 'string' ? arg : inspect(arg, { maxLength: MAX_LINE });
  }
  return truncate(out);
}

export function truncate(line: string): string {
  if (line.length <= MAX_LINE) return line;
  let end = MAX_LINE;
  // Do not cut a surrogate pair in half.
  const c = StringPrototypeCharCodeAt(line, end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${StringPrototypeSlice(line, 0, end)}… [${line.length - end} more characters]`;
}
