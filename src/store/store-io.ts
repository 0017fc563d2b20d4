import { IsolaneError, isIsolaneError } from '../errors.ts';

/** Runs a store operation; failures that are not already IsolaneErrors become ISO_ERR_STORE_IO. */
export async function storeIo<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isIsolaneError(error)) throw error;
    const code = (error as NodeJS.ErrnoException | null)?.code;
    throw new IsolaneError('ISO_ERR_STORE_IO', `could not ${what}${code ? ` (${code})` : ''}`, { cause: error });
  }
}

export function corrupt(what: string, cause?: unknown): IsolaneError {
  return new IsolaneError('ISO_ERR_STORE_IO', `${what} is corrupt`, { cause });
}

/** True for errors meaning "that file is not there". */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
