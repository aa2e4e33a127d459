// Every option failure of createBlueprint: a ConfigurationError (AGENTID_INVALID_OPTIONS) naming
// the full option path as the caller wrote it, never a bare TypeError.
import { describe, expect, it } from 'vitest';
import { ConfigurationError, createBlueprint, secretCredential, type BlueprintOptions } from '../index.js';

const base = (): BlueprintOptions => ({
  tenantId: '00000000-0000-4000-8000-000000000001',
  clientId: 'b1000000-0000-4000-8000-000000000001',
  credential: secretCredential('s', { silenceWarning: true }),
});

const cases: Array<[string, Partial<Record<string, unknown>>]> = [
  ['network.timeoutMs', { network: { timeoutMs: 0 } }],
  ['network.retries', { network: { retries: 1.5 } }],
  ['network.maxRetryAfterMs', { network: { maxRetryAfterMs: -1 } }],
  ['network.fetch', { network: { fetch: 'not a function' } }],
  ['cache.l1.maxEntries', { cache: { l1: { maxEntries: 0 } } }],
  ['cache.l1.maxBytes', { cache: { l1: { maxBytes: 'big' } } }],
  ['cache.maxAgents', { cache: { maxAgents: 0 } }],
  ['policy.refreshAheadFraction', { policy: { refreshAheadFraction: 2 } }],
  ['policy.maxLifetimeSec', { policy: { maxLifetimeSec: 100, minRemainingSec: 90, clockSkewSec: 60 } }],
  ['telemetry.tracerProvider', { telemetry: { tracerProvider: {} } }],
  ['tenantId', { tenantId: 'x' }],
  ['clientId', { clientId: '' }],
];

describe('createBlueprint: option errors', () => {
  it.each(cases)('%s: a coded ConfigurationError naming the full path', (path, patch) => {
    let thrown: unknown;
    try {
      createBlueprint({ ...base(), ...patch } as BlueprintOptions);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).code).toBe('AGENTID_INVALID_OPTIONS');
    expect((thrown as Error).message).toContain('createBlueprint: ');
    expect((thrown as Error).message).toContain(path);
  });
});
