/**
 * Deploys and rollbacks of one worker take effect in the order they arrived. A deploy is built before it
 * is stored, and builds take their own time: without an order, one sent first whose build finished
 * last replaced the one sent after it, and both were answered 200. Each change takes a ticket as it
 * arrives; its store-and-activate step runs after those of the worker's earlier changes, and is refused
 * (409) once a later one has taken effect.
 */
import { IsolaneError } from '../errors.ts';

interface WorkerOrder {
  lastTicket: number;
  /** Changes that took a ticket and have not ended: the entry goes when none is left. */
  open: number;
  /** The ticket of the change that took effect last. */
  liveTicket: number;
  /** The last activation step queued: the next one runs after it. */
  tail: Promise<unknown>;
}

export class DeployOrder {
  /**
   * Only workers with a change under way: kept for good, every name ever sent, a failed deploy's
   * included, was an entry for the process's life.
   */
  readonly #workers = new Map<string, WorkerOrder>();

  /**
   * Runs one change of `worker`: its ticket is taken now, before any await, and `run` calls activate
   * with it. Whatever `run` does, the change has ended once it settles.
   */
  async change<T>(worker: string, run: (ticket: number) => Promise<T>): Promise<T> {
    let order = this.#workers.get(worker);
    if (!order) this.#workers.set(worker, (order = { lastTicket: 0, open: 0, liveTicket: 0, tail: Promise.resolve() }));
    order.open++;
    try {
      return await run(++order.lastTicket);
    } finally {
      // A later change's entry may have replaced this one only if this one was gone: it is still ours.
      if (--order.open === 0) this.#workers.delete(worker);
    }
  }

  /** Workers with a change under way. */
  get changing(): number {
    return this.#workers.size;
  }

  /**
   * Runs `activate` (storing and activating the change) after the worker's earlier changes' steps, unless
   * a later change took effect meanwhile: then ISO_ERR_DEPLOY_SUPERSEDED, and nothing of it is stored.
   */
  async activate<T>(worker: string, ticket: number, what: string, activate: () => Promise<T>): Promise<T> {
    const order = this.#workers.get(worker);
    if (!order) throw new Error(`no ticket was taken for worker ${worker}`);
    const step = order.tail.then(async () => {
      if (order.liveTicket > ticket) {
        throw new IsolaneError('ISO_ERR_DEPLOY_SUPERSEDED', `a later change to worker ${worker} took effect while this ${what} was being built: it was not applied`);
      }
      const result = await activate();
      order.liveTicket = ticket;
      return result;
    });
    order.tail = step.catch(() => {});
    return step;
  }
}
