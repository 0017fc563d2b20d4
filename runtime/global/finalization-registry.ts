/**
 * FinalizationRegistry (https://tc39.es/ecma262/#sec-finalization-registry-objects) with callbacks that
 * run. V8 queues a registry's cleanup as a task of the isolate's platform, and isolated-vm runs those
 * only in asynchronous entries, which the host never makes into a tenant isolate (they would run tenant
 * code on isolated-vm's threads, unwatched: docs/ARCHITECTURE.md): V8's own registry never calls back,
 * and what it holds (wasm-bindgen frees WebAssembly memory this way) is never released.
 *
 * This one holds each target with a WeakRef. Once a garbage collection has happened (a WeakRef to a
 * throwaway object, the witness, is empty), the next entry from the host (entry.ts) looks for targets
 * that are gone and calls their callbacks first, inside that entry's watched slice: their CPU is its
 * invocation's, and a callback that never returns is stopped by its CPU limit.
 */
import { logUncaught } from './console.ts';
import { nameClass } from './define.ts';
import {
  ReflectApply,
  SetCtor,
  SetPrototypeAdd,
  SetPrototypeDelete,
  SetPrototypeForEach,
  SetPrototypeGetSize,
  SymbolKeyFor,
  TypeErrorCtor,
  WeakMapCtor,
  WeakMapPrototypeDelete,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
  WeakRefCtor,
  WeakRefPrototypeDeref,
} from '../primordials.ts';

/** One registration: the target, held weakly, and the value its callback gets. */
interface Cell {
  target: WeakRef<WeakKey>;
  held: unknown;
  /** The cells registered with the same unregister token, if one was given. */
  sameToken: Set<Cell> | null;
}

interface Registrations {
  callback: (held: unknown) => unknown;
  cells: Set<Cell>;
  byToken: WeakMap<WeakKey, Set<Cell>>;
}

/** Each registry's registrations, kept as long as the registry is. */
let registrationsByRegistry: WeakMap<object, Registrations> | null = null;
/**
 * Every registry's registrations, held weakly: a registry no longer reachable calls nobody back. Null
 * until the class is defined: entry.ts reads it before calling runFinalizationCallbacks, which an isolate
 * that never uses the class then never compiles.
 */
export let registries: Set<WeakRef<Registrations>> | null = null;
let witness: WeakRef<object> | null = null;

// https://tc39.es/ecma262/#sec-canbeheldweakly
function canBeHeldWeakly(value: unknown): value is WeakKey {
  if (typeof value === 'object') return value !== null;
  if (typeof value === 'function') return true;
  return typeof value === 'symbol' && SymbolKeyFor(value) === undefined;
}

type FinalizationRegistryClass = new (cleanupCallback: (heldValue: unknown) => unknown) => object;
let defined: FinalizationRegistryClass | null = null;

/** Defined on first use (lazy-globals.ts): an isolate that never reads the global pays nothing for it. */
export function loadFinalizationRegistry(): { FinalizationRegistry: FinalizationRegistryClass } {
  return { FinalizationRegistry: (defined ??= defineFinalizationRegistry()) };
}

function defineFinalizationRegistry(): FinalizationRegistryClass {
  const byRegistry = (registrationsByRegistry = new WeakMapCtor());
  const all = (registries = new SetCtor());
  witness = new WeakRefCtor({});

  class FinalizationRegistry {
    constructor(cleanupCallback: (heldValue: unknown) => unknown) {
      if (typeof cleanupCallback !== 'function') throw new TypeErrorCtor('FinalizationRegistry: cleanup must be callable');
      const registrations: Registrations = { callback: cleanupCallback, cells: new SetCtor(), byToken: new WeakMapCtor() };
      WeakMapPrototypeSet(byRegistry, this, registrations);
      SetPrototypeAdd(all, new WeakRefCtor(registrations));
    }

    // The token is a rest element so that `register.length` is 2, as the standard's is.
    register(target: unknown, heldValue: unknown, ...[unregisterToken]: unknown[]): undefined {
      const registrations = registrationsOf(this, 'register');
      if (!canBeHeldWeakly(target)) throw new TypeErrorCtor('FinalizationRegistry.prototype.register: invalid target');
      if (target === heldValue) throw new TypeErrorCtor('FinalizationRegistry.prototype.register: target and holdings must not be same');
      let sameToken: Set<Cell> | null = null;
      if (canBeHeldWeakly(unregisterToken)) {
        sameToken = WeakMapPrototypeGet(registrations.byToken, unregisterToken) ?? null;
        if (sameToken === null) WeakMapPrototypeSet(registrations.byToken, unregisterToken, (sameToken = new SetCtor()));
      } else if (unregisterToken !== undefined) {
        throw new TypeErrorCtor('FinalizationRegistry.prototype.register: invalid unregister token');
      }
      const cell: Cell = { target: new WeakRefCtor(target), held: heldValue, sameToken };
      SetPrototypeAdd(registrations.cells, cell);
      if (sameToken !== null) SetPrototypeAdd(sameToken, cell);
      return undefined;
    }

    unregister(unregisterToken: unknown): boolean {
      const registrations = registrationsOf(this, 'unregister');
      if (!canBeHeldWeakly(unregisterToken)) throw new TypeErrorCtor('FinalizationRegistry.prototype.unregister: invalid unregister token');
      const sameToken = WeakMapPrototypeGet(registrations.byToken, unregisterToken);
      if (sameToken === undefined || SetPrototypeGetSize(sameToken) === 0) return false;
      SetPrototypeForEach(sameToken, (cell) => void SetPrototypeDelete(registrations.cells, cell));
      WeakMapPrototypeDelete(registrations.byToken, unregisterToken);
      return true;
    }
  }

  nameClass(FinalizationRegistry, 'FinalizationRegistry');
  return FinalizationRegistry;
}

function registrationsOf(receiver: unknown, method: string): Registrations {
  const registrations = typeof receiver === 'object' && receiver !== null ? WeakMapPrototypeGet(registrationsByRegistry!, receiver) : undefined;
  if (registrations === undefined) throw new TypeErrorCtor(`FinalizationRegistry.prototype.${method}: receiver is not a FinalizationRegistry`);
  return registrations;
}

/**
 * Calls back for the targets collected since the last look, if a collection has happened since: one
 * WeakRef read otherwise. An exception a callback throws is reported as uncaught; the others still run.
 */
export function runFinalizationCallbacks(): void {
  if (registries === null || SetPrototypeGetSize(registries) === 0 || WeakRefPrototypeDeref(witness!) !== undefined) return;
  const all = registries;
  witness = new WeakRefCtor({});
  SetPrototypeForEach(all, (ref) => {
    const registrations = WeakRefPrototypeDeref(ref);
    if (registrations === undefined) {
      SetPrototypeDelete(all, ref);
      return;
    }
    SetPrototypeForEach(registrations.cells, (cell) => {
      if (WeakRefPrototypeDeref(cell.target) !== undefined) return;
      SetPrototypeDelete(registrations.cells, cell);
      if (cell.sameToken !== null) SetPrototypeDelete(cell.sameToken, cell);
      try {
        ReflectApply(registrations.callback, undefined, [cell.held]);
      } catch (error) {
        logUncaught(error);
      }
    });
  });
}
