import { createRequire } from 'node:module';
import { ConfigurationError, type L2Cache } from '@agentid/core';

const resolveModule = createRequire(import.meta.url).resolve;

/**
 * Checks that an optional peer dependency the configuration needs is installed (`@agentid/redis`,
 * and so `redis`, only for a sidecar configured with Redis): synchronously, so that a missing
 * package is a `ConfigurationError` from `createSidecar` naming what to install, not a failure
 * at the first cache call. The module itself is then imported lazily. `resolve` is for tests.
 */
export function requireInstalled(
  name: string,
  why: string,
  resolve: (name: string) => unknown = resolveModule,
): void {
  try {
    resolve(name);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
      throw new ConfigurationError(`${why} needs the optional package ${name}: npm install ${name}`, {
        cause: error,
      });
    throw error;
  }
}

/** An L2 whose module is still being imported: every call waits for it (`close()` too). */
export function lazyL2<T extends L2Cache & { close(): Promise<void> }>(
  loading: Promise<T>,
): L2Cache & { close(): Promise<void>; loaded: Promise<T> } {
  // A failed import is reported by `loaded` (awaited by listen()); calls see it as an L2 failure.
  loading.catch(() => undefined);
  return {
    loaded: loading,
    get: async (key) => (await loading).get(key),
    set: async (key, entry, ttlMs) => (await loading).set(key, entry, ttlMs),
    delete: async (key) => (await loading).delete(key),
    lock: async (key, leaseMs) => (await loading).lock?.(key, leaseMs),
    invalidateTag: async (tag) => (await loading).invalidateTag?.(tag),
    close: async () => (await loading).close(),
  };
}
