/**
 * Code caches on disk, `<dataDir>/code-cache/<versionId>/<module>.v8`, so that a serving process that did
 * not compile a version (another process, or one started after a restart or a recycle) compiles it from
 * the cache another made. Derived data: written without fsync, through a temp file and a rename, with a
 * SHA-256 of the bytes in front so that a damaged file is ignored rather than handed to V8; written only
 * for versions that built, removed with the version, and swept at start for versions no longer live.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const DIGEST_BYTES = 32;
const SAFE_SEGMENT = /^[\w-]{1,64}$/;

export class CodeCacheFiles {
  readonly dir: string;
  readonly #turns = new Map<string, Promise<unknown>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * The cache of `moduleName` in `versionId`, or null (none, unreadable, or damaged). Read straight into
   * a buffer of the cache's size, which isolated-vm then takes over: a cold start reads a Hono app's
   * 170 KB cache in ~0.35 ms instead of ~0.47 with a whole-file read and a copy of its payload.
   */
  read(versionId: string, moduleName: string): ArrayBuffer | null {
    const path = this.#path(versionId, moduleName);
    if (!path) return null;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return null;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= DIGEST_BYTES) return null;
      const expected = Buffer.alloc(DIGEST_BYTES);
      const bytes = new Uint8Array(size - DIGEST_BYTES);
      if (readSync(fd, expected, 0, DIGEST_BYTES, 0) !== DIGEST_BYTES || readSync(fd, bytes, 0, bytes.length, DIGEST_BYTES) !== bytes.length) return null;
      return digest(bytes).equals(expected) ? bytes.buffer : null;
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  /** Writes in the background; a failure only means the next process compiles from source. */
  write(versionId: string, moduleName: string, bytes: ArrayBuffer): void {
    const path = this.#path(versionId, moduleName);
    if (!path) return;
    const data = Buffer.from(bytes);
    const file = Buffer.concat([digest(data), data]);
    this.#inTurn(versionId, async () => {
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await mkdir(join(this.dir, versionId), { recursive: true });
        await writeFile(temp, file);
        await rename(temp, path);
      } catch {
        await rm(temp, { force: true });
      }
    });
  }

  /** Drops one module's file (V8 rejected it: made by another V8, or for other flags). */
  remove(versionId: string, moduleName: string): void {
    const path = this.#path(versionId, moduleName);
    if (path) this.#inTurn(versionId, () => rm(path, { force: true }));
  }

  /** Drops a version's files (it is no longer live), after this thread's writes of them. */
  removeVersion(versionId: string): void {
    if (SAFE_SEGMENT.test(versionId)) this.#inTurn(versionId, () => rm(join(this.dir, versionId), { recursive: true, force: true }));
  }

  /** Removes the files of every version not in `keep`, and temp files a crash left; returns the version ids removed. */
  sweep(keep: ReadonlySet<string>): string[] {
    const removed: string[] = [];
    if (!existsSync(this.dir)) return removed;
    for (const entry of readdirSync(this.dir)) {
      const path = join(this.dir, entry);
      if (!keep.has(entry)) {
        rmSync(path, { recursive: true, force: true });
        removed.push(entry);
        continue;
      }
      for (const file of readdirSync(path)) if (file.endsWith('.tmp')) rmSync(join(path, file), { force: true });
    }
    return removed;
  }

  /** One version's file operations run one after another, so a removal is never overtaken by a write. */
  #inTurn(versionId: string, operation: () => Promise<unknown>): void {
    const next = (this.#turns.get(versionId) ?? Promise.resolve()).then(operation).catch(() => {});
    this.#turns.set(versionId, next);
    void next.then(() => {
      if (this.#turns.get(versionId) === next) this.#turns.delete(versionId);
    });
  }

  #path(versionId: string, moduleName: string): string | null {
    if (!SAFE_SEGMENT.test(versionId)) return null;
    // Module names may hold slashes and run long: the file is named by their hash.
    const name = createHash('sha256').update(moduleName).digest('hex').slice(0, 32);
    return join(this.dir, versionId, `${name}.v8`);
  }
}

function digest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
