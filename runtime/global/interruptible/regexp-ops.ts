/**
 * The spec's abstract operations that the runtime's regular expression algorithms share
 * (./replace.ts, ./regexp-split.ts).
 */
import { MathMin, MathTrunc, ReflectApply, RegExpPrototypeExec, StringPrototypeCharCodeAt, TypeErrorCtor } from '../../primordials.ts';

export type Item = Record<PropertyKey, unknown>;

/** ToString, which (unlike `String(x)`) throws for a Symbol. */
export function toString(value: unknown): string {
  return `${value as string}`;
}

export function toLength(value: unknown): number {
  const n = MathTrunc(+(value as number)) || 0;
  return n <= 0 ? 0 : MathMin(n, 2 ** 53 - 1);
}

/** RegExpExec: the object's own `exec` if it has one, else the builtin. */
export function regExpExec(rx: Item, str: string): Item | null {
  const exec = rx.exec;
  if (typeof exec === 'function') {
    const result = ReflectApply(exec, rx, [str]);
    if (result !== null && typeof result !== 'object' && typeof result !== 'function') throw new TypeErrorCtor('exec result must be an object or null');
    return result as Item | null;
  }
  return RegExpPrototypeExec(rx as unknown as RegExp, str) as unknown as Item | null;
}

/** AdvanceStringIndex: past a surrogate pair in unicode mode. */
export function advance(str: string, index: number, unicode: boolean): number {
  if (!unicode || index + 1 >= str.length) return index + 1;
  const lead = StringPrototypeCharCodeAt(str, index);
  const trail = StringPrototypeCharCodeAt(str, index + 1);
  return lead >= 0xd800 && lead <= 0xdbff && trail >= 0xdc00 && trail <= 0xdfff ? index + 2 : index + 1;
}
