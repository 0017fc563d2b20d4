export { FsStore, openFsStore } from './fs-store.ts';
export { KEPT_VERSIONS } from './store.ts';
export type { Store, StoreChange, StoreChangeListener } from './store.ts';
export { canonicalJson, isVersionId, versionId } from './version-id.ts';
export { assertWorkerName, isWorkerName, WORKER_NAME } from './worker-name.ts';
