/**
 * The generic Array.prototype algorithms (./generic-methods.ts), a runtime chunk loaded the first time a
 * replaced method meets a receiver its builtin cannot be trusted with.
 */
import {
  ArrayCtor,
  ArrayIsArray,
  ArrayPrototypeSort,
  MathMax,
  MathMin,
  MathTrunc,
  ObjectCreate,
  ObjectCtor,
  RangeErrorCtor,
  ReflectApply,
  ReflectConstruct,
  ReflectDefineProperty,
  SetCtor,
  SetPrototypeAdd,
  SetPrototypeDelete,
  SetPrototypeHas,
  SymbolIsConcatSpreadable,
  SymbolSpecies,
  TypeErrorCtor,
} from '../../primordials.ts';
import { loadChunk } from '../../chunks.ts';
import type { GenericMethod, genericMethods, Intrinsics } from './generic-methods.ts';

let generic: ReturnType<typeof genericMethods> | undefined;

export function genericMethod(name: string): GenericMethod {
  if (generic === undefined) {
    // Listed, not `import * as`: a namespace object of all the primordials would cost every isolate ~60 KB.
    const intrinsics: Intrinsics = {
      ObjectCtor, ObjectCreate, ArrayCtor, ArrayIsArray, ArrayPrototypeSort, TypeErrorCtor, RangeErrorCtor,
      ReflectApply, ReflectConstruct, ReflectDefineProperty, MathMax, MathMin, MathTrunc, SymbolSpecies,
      SetCtor, SetPrototypeAdd, SetPrototypeDelete, SetPrototypeHas, SymbolIsConcatSpreadable,
    };
    generic = loadChunk<{ genericMethods: typeof genericMethods }>('generic-array-methods').genericMethods(intrinsics);
  }
  return generic[name]!;
}
