/**
 * Requests the host hands over together (dispatch('requests', …)) run one after another in
 * that one entry: each starts once the one before is over (answered and nothing left to wait for), so
 * the host always knows which request the isolate is working for (its CPU, its timers, its limit). A
 * request that is not over by the end of the entry (it awaits a timer or a fetch) keeps the rest from
 * starting; the host sends those again one by one. Any other dispatch forgets what is left, so no
 * request can start twice.
 */
type Start = (id: number, method: string, url: string, headers: string, body: string | null) => void;

/** Arguments per request: id, method, url, headers, body (text or null). */
const FIELDS = 5;

/** dispatch's arguments: 'requests', then FIELDS for each request. */
let queue: ArrayLike<unknown> | null = null;
let next = 0;
let currentId = -1;
let start: Start | null = null;

export function runBatch(args: ArrayLike<unknown>, run: Start): void {
  queue = args;
  next = 1;
  start = run;
  startNext();
}

/** Another dispatch came: what the batch did not start, the host runs by itself. */
export function forgetBatch(): void {
  queue = null;
}

/**
 * Invocation `id` is over and the host was told: the batch goes on if it was the request running and
 * the host said so (`goOn` false: the isolate is unfit for more work, the host runs the rest elsewhere).
 */
export function invocationOver(id: number, goOn: boolean): void {
  if (queue === null || id !== currentId) return;
  if (goOn) startNext();
  else queue = null;
}

function startNext(): void {
  const args = queue!;
  if (next + FIELDS > args.length) {
    queue = null;
    return;
  }
  const i = next;
  next += FIELDS;
  currentId = args[i] as number;
  start!(currentId, args[i + 1] as string, args[i + 2] as string, args[i + 3] as string, args[i + 4] as string | null);
}
