/** What the browser reports about this origin's storage; undefined where the API is missing. */
export interface StorageEstimateResult {
  readonly usage?: number;
  readonly quota?: number;
  /** Whether the origin's storage is exempt from eviction under pressure. */
  readonly persisted?: boolean;
}

type StorageManagerLike = Pick<StorageManager, 'estimate'> & Partial<Pick<StorageManager, 'persisted'>>;

function storageManager(): StorageManagerLike | undefined {
  return (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage;
}

/** `navigator.storage.estimate()` plus `persisted()`: check before downloading gigabytes. */
export async function estimateStorage(storage = storageManager()): Promise<StorageEstimateResult> {
  if (!storage) return {};
  const { usage, quota } = await storage.estimate();
  const persisted = storage.persisted ? await storage.persisted() : undefined;
  return {
    ...(usage !== undefined ? { usage } : {}),
    ...(quota !== undefined ? { quota } : {}),
    ...(persisted !== undefined ? { persisted } : {}),
  };
}

/**
 * Ask the browser not to evict this origin's storage (a cached model is large and slow to fetch
 * again). Browsers may grant it silently, prompt, or refuse; returns what was decided.
 */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = (globalThis as { navigator?: { storage?: Partial<Pick<StorageManager, 'persist'>> } }).navigator?.storage;
  return storage?.persist ? storage.persist() : false;
}
