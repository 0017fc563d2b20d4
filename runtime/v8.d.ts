/** V8 extensions this runtime uses that lib.es2024 does not declare. */
interface ErrorConstructor {
  /** Set `target.stack` to the current stack, omitting frames above `constructorOpt`. */
  captureStackTrace(target: object, constructorOpt?: Function): void;
  /** ES2026 Error.isError: true for objects with [[ErrorData]] (real errors, whatever their prototype). */
  isError(value: unknown): boolean;
}
