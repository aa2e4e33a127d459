import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBlueprint, secretCredential } from '../index.js';
import { brokerOf } from '../broker.js';

const W = DEMO.blueprints.workers;
let emu: Emulator;
beforeAll(async () => {
  emu = await createEmulator();
});
afterAll(() => emu.close());
beforeEach(() => emu.counters.reset());

const make = (cache: Record<string, unknown> = {}) =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    cache,
  });

// A real collection, to tell handles still referenced from freed ones.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const id = (i: number) => `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`;

describe('blueprint.agent(id) handles are bounded (cache.maxAgents)', () => {
  it('validates cache.maxAgents up front', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '10', 2_000_000])
      expect(() => make({ maxAgents: bad })).toThrow(/cache\.maxAgents/);
    expect(() => make({ maxAgents: 1 })).not.toThrow();
  });

  it('reuses a handle while it is among the most recently used, and drops the least recently used', () => {
    const bp = make({ maxAgents: 2 });
    const a = bp.agent(id(1));
    expect(bp.agent(id(1))).toBe(a);
    bp.agent(id(2));
    bp.agent(id(1)); // a is now the most recently used
    bp.agent(id(3)); // evicts id(2)
    expect(bp.agent(id(1))).toBe(a);
    const b = bp.agent(id(2));
    expect(bp.agent(id(2))).toBe(b);
  });

  it('thousands of distinct ids: the handles (and their MSAL clients) beyond the bound are freed, the heap stays bounded', async () => {
    const bp = make({ maxAgents: 100 });
    const refs: Array<WeakRef<object>> = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 5000; i++) {
      const agent = bp.agent(id(i));
      refs.push(new WeakRef(agent), new WeakRef(brokerOf(agent).msal));
    }
    // A WeakRef keeps its target alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    expect(alive).toBeLessThanOrEqual(2 * 100);
    // Unbounded, 5,000 handles held about 37 MB.
    expect(grownMb).toBeLessThan(10);
  });

  it('an evicted agent asked for again still serves its cached token (no new token request)', async () => {
    const bp = make({ maxAgents: 2 });
    const first = bp.agent(DEMO.agents.mail);
    const t = await first.getToken(['api://reports/.default']);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    // At most twice maxAgents handles are kept: four more push the mail agent's out.
    for (let i = 1; i <= 4; i++) bp.agent(id(i));
    const again = bp.agent(DEMO.agents.mail);
    expect(again).not.toBe(first);
    const t2 = await again.getToken(['api://reports/.default']);
    expect(t2.token).toBe(t.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    // And it works end to end when it must go to the network.
    const t3 = await again.getToken(['api://reports/.default'], { forceRefresh: true });
    expect(t3.subject).toBe(DEMO.agents.mail);
    expect(emu.counters.tokenRequests('leg2')).toBe(2);
  });
});
