/**
 * What a cron trigger hands the worker (https://developers.cloudflare.com/workers/runtime-apis/handlers/scheduled/):
 * module syntax gets a ScheduledController as `scheduled(controller, env, ctx)`'s first argument,
 * service-worker syntax a ScheduledEvent (an Event, with waitUntil()) for its 'scheduled' listeners.
 * Both carry the time the trigger was due (ms since the epoch, UTC) and the cron expression that fired.
 * Constructed by the runtime only. A failed scheduled event is not retried here, so noRetry() has
 * nothing to prevent: it is accepted, as Workers code calls it.
 */
import { nameClass } from '../global/define.ts';
import { type Invocation, waitUntil } from '../invocation.ts';
import { ObjectFreeze } from '../primordials.ts';
import { loadEvents } from './event.ts';

const INTERNAL = ObjectFreeze({});

function defineScheduledController() {
  class ScheduledController {
    readonly #scheduledTime: number;
    readonly #cron: string;

    constructor(token: unknown, scheduledTime: number, cron: string) {
      if (token !== INTERNAL) throw new TypeError('Illegal constructor');
      this.#scheduledTime = scheduledTime;
      this.#cron = cron;
    }

    get scheduledTime(): number {
      return this.#scheduledTime;
    }

    get cron(): string {
      return this.#cron;
    }

    noRetry(): void {
      this.#cron; // brand check: TypeError on a foreign receiver
    }
  }
  nameClass(ScheduledController, 'ScheduledController');
  return ScheduledController;
}

// Defined on first use, as the event classes are (global/lazy-globals.ts): most isolates never see a cron.
let ScheduledControllerClass: ReturnType<typeof defineScheduledController> | null = null;

export function createScheduledController(scheduledTime: number, cron: string): object {
  return new (ScheduledControllerClass ??= defineScheduledController())(INTERNAL, scheduledTime, cron);
}

export type ScheduledEvent = InstanceType<ReturnType<typeof defineScheduledEvent>>;

function defineScheduledEvent() {
  const { Event } = loadEvents();
  class ScheduledEvent extends Event {
    readonly #scheduledTime: number;
    readonly #cron: string;
    readonly #invocation: Invocation;

    constructor(token: unknown, scheduledTime: number, cron: string, invocation: Invocation) {
      if (token !== INTERNAL) throw new TypeError('Illegal constructor');
      super('scheduled');
      this.#scheduledTime = scheduledTime;
      this.#cron = cron;
      this.#invocation = invocation;
    }

    override get type(): 'scheduled' {
      return 'scheduled';
    }

    get scheduledTime(): number {
      return this.#scheduledTime;
    }

    get cron(): string {
      return this.#cron;
    }

    waitUntil(promise: unknown): void {
      waitUntil(this.#invocation, promise);
    }

    noRetry(): void {
      this.#invocation; // brand check: TypeError on a foreign receiver
    }
  }
  nameClass(ScheduledEvent, 'ScheduledEvent');
  return ScheduledEvent;
}

let ScheduledEventClass: ReturnType<typeof defineScheduledEvent> | null = null;

export function createScheduledEvent(scheduledTime: number, cron: string, invocation: Invocation): ScheduledEvent {
  return new (ScheduledEventClass ??= defineScheduledEvent())(INTERNAL, scheduledTime, cron, invocation);
}
