// https://html.spec.whatwg.org/multipage/system-state.html#the-navigator-object (the part workers have)
import { nameClass } from './define.ts';

/**
 * Workers' own: libraries tell the Workers API by it (Hono's getRuntimeKey, whose `env(c)` then reads the
 * bindings; with another value it answered {}).
 */
export const USER_AGENT = 'Cloudflare-Workers';

export class Navigator {
  get userAgent(): string {
    return USER_AGENT;
  }

  // As workerd reports them: one thread, English.
  get hardwareConcurrency(): number {
    return 1;
  }

  get language(): string {
    return 'en';
  }

  get languages(): string[] {
    return ['en'];
  }
}
nameClass(Navigator, 'Navigator');

export const navigator = new Navigator();
