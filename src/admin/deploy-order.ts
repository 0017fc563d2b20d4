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
  /** The ticket of the change that took effect last. */
  liveTicket: number;
  /** The last activation step queued: the next one runs after it. */
  tail: Promise<unknown>;
}

export class DeployOrder {
  /** Kept for the process's life: a few dozen bytes for each worker changed since it started. */
  readonly #workers = new Map<string, WorkerOrder>();

  /** Taken as the change arrives, before any await. */
  ticket(worker: string): number {
    let order = this.#workers.get(worker);
    if (!order) this.#workers.set(worker, (order = { lastTicket: 0, liveTicket: 0, tail: Promise.resolve() }));
    return ++order.lastTicket;
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
