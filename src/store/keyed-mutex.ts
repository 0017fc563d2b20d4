/**
 * One-at-a-time sections per key, within this process: two deploys to one worker queue instead of
 * interleaving. Not reentrant: a section must not take its own key again.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tails.set(key, tail);
    await previous;
    try {
      return await section();
    } finally {
      // The last in the queue removes the key, so the map only holds keys in use.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
      release();
    }
  }

  /** Keys with a section running or queued (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}
