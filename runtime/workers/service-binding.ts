/**
 * Service bindings (https://developers.cloudflare.com/workers/runtime-apis/bindings/service-bindings/):
 * `env.NAME` for a `service` binding is a Fetcher whose fetch() reaches the bound worker instead of the
 * network. It is fetch() itself with the binding's name: the host sends the request to that worker
 * through its own data plane (src/outbound/service-call.ts), which answers as any worker answers. The
 * binding's name crosses, never the worker's: a worker reaches only the services it is bound to.
 */
import { nameClass } from '../global/define.ts';
import { fetchThrough } from '../http/fetch.ts';
import { ObjectFreeze, TypeErrorCtor } from '../primordials.ts';

const INTERNAL = ObjectFreeze({});

function defineFetcher() {
  class Fetcher {
    readonly #binding: string;

    constructor(token: unknown, binding: string) {
      if (token !== INTERNAL) throw new TypeErrorCtor('Illegal constructor');
      this.#binding = binding;
    }

    fetch(input: unknown, init: unknown = undefined): Promise<unknown> {
      return fetchThrough(this.#binding, input, init);
    }

    connect(): never {
      throw new TypeErrorCtor('connect() through a service binding is not supported.');
    }
  }
  nameClass(Fetcher, 'Fetcher');
  return Fetcher;
}

// Defined on first use: only workers with a service binding make one.
let FetcherClass: ReturnType<typeof defineFetcher> | null = null;

export function createServiceBinding(binding: string): object {
  return new (FetcherClass ??= defineFetcher())(INTERNAL, binding);
}
