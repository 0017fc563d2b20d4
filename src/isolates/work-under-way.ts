/**
 * Work under way on isolated-vm's threads (spare isolates being prepared, scratch isolates making code
 * caches). A process that exits while those threads still work can abort in isolated-vm's teardown
 * (`IsolateEnvironment::GetCurrent` assertion, seen at the end of a test file), so whoever starts such
 * work keeps it here and waits for `settled()` before it lets the process go.
 */
export class WorkUnderWay {
  readonly #work = new Set<Promise<unknown>>();

  get size(): number {
    return this.#work.size;
  }

  /** Kept until it settles. */
  add(work: Promise<unknown>): void {
    this.#work.add(work);
    const done = () => void this.#work.delete(work);
    work.then(done, done);
  }

  /** Settles as the first of the work under way does, with its value, rejected if it failed; never if there is none. */
  first(): Promise<unknown> {
    return Promise.race(this.#work);
  }

  /** Resolves once every piece under way now has settled, whether it succeeded or not. */
  settled(): Promise<void> {
    return Promise.allSettled([...this.#work]).then(() => {});
  }
}
