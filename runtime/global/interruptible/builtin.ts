/** A builtin as the replacements hold it before they decide to call it (always through ReflectApply). */
export type Builtin = (...args: unknown[]) => unknown;
