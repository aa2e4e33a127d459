import { randomBytes } from 'node:crypto';
import { DEMO } from '@agentid/emulator';
import { describe, expect, it } from 'vitest';
import { loadSidecarConfig } from './config.js';
import { lazyL2, requireInstalled } from './optional.js';
import { createSidecar } from './sidecar.js';

const W = DEMO.blueprints.workers;
const config = (redis: boolean) =>
  loadSidecarConfig({
    env: {
      AzureAd__TenantId: DEMO.tenantId,
      AzureAd__ClientId: W.appId,
      AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
      AzureAd__ClientCredentials__0__ClientSecret: W.secret,
      ...(redis
        ? {
            AgentId__Redis__Url: 'redis://127.0.0.1:1',
            AgentId__Redis__EncryptionKey: randomBytes(32).toString('base64'),
          }
        : {}),
    },
  });
const missing = (name: string): never => {
  throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
};

describe('@agentid/redis is an optional peer of the sidecar', () => {
  it('without Redis configured it is never loaded', () => {
    const loaded: string[] = [];
    const sidecar = createSidecar(config(false), { resolveOptional: (n) => (loaded.push(n), missing(n)) });
    expect(loaded).toEqual([]);
    void sidecar.close();
  });

  it('configured but not installed: a ConfigurationError naming the package, from createSidecar', () => {
    expect(() => createSidecar(config(true), { resolveOptional: missing })).toThrow(
      expect.objectContaining({
        code: 'AGENTID_INVALID_OPTIONS',
        message: expect.stringMatching(
          /AgentId:Redis needs the optional package @agentid\/redis: npm install @agentid\/redis/,
        ),
      }),
    );
  });

  it('installed: resolved now, imported lazily; other resolution failures are rethrown as they are', async () => {
    expect(() => requireInstalled('@agentid/redis', 'x')).not.toThrow();
    const broken = new SyntaxError('boom');
    expect(() =>
      requireInstalled('@agentid/redis', 'x', () => {
        throw broken;
      }),
    ).toThrow(broken);
    const sidecar = createSidecar(config(true));
    await sidecar.close();
  });

  it('a lazily loaded L2 forwards every call once loaded, and reports a failed load', async () => {
    const calls: string[] = [];
    const l2 = lazyL2(
      Promise.resolve({
        get: async (k: string) => (calls.push(`get ${k}`), undefined),
        set: async (k: string) => void calls.push(`set ${k}`),
        delete: async (k: string) => void calls.push(`delete ${k}`),
        close: async () => void calls.push('close'),
      }),
    );
    await l2.get('a');
    await l2.set('b', { value: 'v', expiresAt: 1 } as never, 1);
    await l2.delete('c');
    expect(await l2.lock!('d', 10)).toBeUndefined();
    await l2.close();
    expect(calls).toEqual(['get a', 'set b', 'delete c', 'close']);
    const failed = lazyL2(Promise.reject(new Error('no')));
    await expect(failed.loaded).rejects.toThrow('no');
    await expect(failed.get('a')).rejects.toThrow('no');
  });
});
