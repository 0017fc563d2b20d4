/**
 * The in-isolate runtime: bundled into one classic script that every fresh context runs before the
 * worker's code. Running it installs the globals below and defines `globalThis.__isolaneBoot`;
 * the host calls that once with its callback and gets `dispatch` back (host.d.ts).
 *
 * Install order matters only in that primordials.ts is evaluated first (imports are evaluated in
 * order), so every intrinsic is captured before anything else runs.
 */
import './primordials.ts';
import type { Boot, HostCall, Natives } from './host.d.ts';
import { connectHost } from './bridge.ts';
import { dispatch } from './entry.ts';
import { addEventListener, dispatchEvent, removeEventListener } from './events/listeners.ts';
import { atob, btoa, useNativeBase64 } from './global/base64.ts';
import { console } from './global/console.ts';
import { defineGlobal } from './global/define.ts';
import { DOMException } from './global/dom-exception.ts';
import { navigator } from './global/navigator.ts';
import { queueMicrotask, reportError } from './global/queue-microtask.ts';
import { structuredClone } from './global/structured-clone.ts';
import { clearInterval, clearTimeout, setInterval, setTimeout } from './global/timers.ts';
import { TextDecoder } from './encoding/text-decoder.ts';
import { TextEncoder } from './encoding/text-encoder.ts';
import { TextDecoderStream } from './encoding/text-decoder-stream.ts';
import { TextEncoderStream } from './encoding/text-encoder-stream.ts';
import { Headers } from './http/headers.ts';
import { Request } from './http/request.ts';
import { Response } from './http/response.ts';
import { fetch } from './http/fetch.ts';
import { Crypto, crypto } from './global/crypto.ts';
import { Performance, performance } from './global/performance.ts';
import { installStreamGlobals } from './streams/web-streams.ts';
import { installWorkersStreamGlobals } from './workers/transform-streams.ts';
import { scheduler, Scheduler } from './workers/scheduler.ts';
import { installURLGlobals } from './url/url.ts';
import { installURLPatternGlobal } from './url/url-pattern.ts';
import { installLazyGlobals } from './global/lazy-globals.ts';
import { installInterruptibleBuiltins } from './global/interruptible/install.ts';
import { installBuiltinModules } from './builtin-modules.ts';
import { useContinuationData } from './async-context.ts';
import { useNamedKeys } from './global/interruptible/object-keys.ts';
import { useNativeUtf8Decode, useNativeUtf8Encode } from './encoding/utf8.ts';
import { CONFIGURABLE, defineValue, globalThisRef, ReflectDeleteProperty } from './primordials.ts';

// WebAssembly is removed: the memory of a WebAssembly.Memory lives outside the V8 heap and is not
// counted by isolated-vm's memoryLimit (a 16 MB isolate was seen touching 256 MB), so one worker
// could take the host's memory. SharedArrayBuffer and Atomics stay; the host forbids Atomics.wait in
// tenant isolates (src/limits/watchdog.ts), as browsers do on their main thread.
ReflectDeleteProperty(globalThisRef, 'WebAssembly');

const globals: Record<string, unknown> = {
  self: globalThisRef,
  navigator,
  console,
  DOMException,
  atob,
  btoa,
  queueMicrotask,
  reportError,
  structuredClone,
  setTimeout,
  setInterval,
  clearTimeout,
  clearInterval,
  TextEncoder,
  TextDecoder,
  TextEncoderStream,
  TextDecoderStream,
  Headers,
  Request,
  Response,
  fetch,
  crypto,
  Crypto,
  performance,
  Performance,
  addEventListener,
  removeEventListener,
  dispatchEvent,
  scheduler,
  Scheduler,
};
for (const name in globals) defineGlobal(name, globals[name]);
installURLGlobals();
installURLPatternGlobal();
installStreamGlobals();
installWorkersStreamGlobals();
installLazyGlobals();
installInterruptibleBuiltins();
installBuiltinModules();

const boot: Boot = function boot(host: HostCall, natives?: Natives) {
  // The boot hook is single-use: gone before any tenant code can look for it.
  ReflectDeleteProperty(globalThisRef, '__isolaneBoot');
  connectHost(host);
  useNamedKeys(natives?.namedKeys);
  useNativeUtf8Encode(natives?.utf8Encode);
  useNativeUtf8Decode(natives?.utf8Decode);
  useNativeBase64(natives?.base64Encode, natives?.base64Decode);
  useContinuationData(natives?.getContinuationData, natives?.setContinuationData);
  return dispatch;
};

defineValue(globalThisRef, '__isolaneBoot', boot, CONFIGURABLE);
