import { createEmulator, DEMO } from '@agentid/emulator';
import { describe, expect, it } from 'vitest';
import { brokerOf } from '../broker.js';
import { createBlueprint, secretCredential } from '../index.js';
import { createManualClock } from '../util/clock.js';

const W = DEMO.blueprints.workers;

// Agent app tokens can live hours (Microsoft's claims reference shows about 8 h): whatever comes
// back, the default lifetime policy (maxLifetimeSec 3600) caps what is cached and handed out.
describe('agent tokens that live hours', () => {
  it('are capped at the default maximum lifetime: the agent token and its T1 alike', async () => {
    const clock = createManualClock(Date.UTC(2026, 11, 2, 9));
    const emu = await createEmulator({ clock, tokenLifetimeSec: 8 * 3600, refreshIn: 'none' });
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
      clock,
    });
    const agent = bp.agent(DEMO.agents.mail);
    const t = await agent.getToken(['api://tools/.default']);
    // The token itself says 8 h; what is served says 1 h.
    expect(t.claims!.exp! * 1000 - clock.now()).toBe(8 * 3600_000);
    expect(t.expiresOn.getTime() - clock.now()).toBe(3600_000);
    const t1 = await brokerOf(agent).exchangeToken();
    expect(t1.expiresOn.getTime() - clock.now()).toBeLessThanOrEqual(3600_000);
    // Past the capped usable window (3600 - 300 - 60 s) a new token is asked for, though the
    // old one is valid for 7 more hours.
    clock.advance(3300_000);
    const next = await agent.getToken(['api://tools/.default']);
    expect(next.token).not.toBe(t.token);
    expect(emu.counters.tokenRequests('leg2')).toBe(2);
  });
});
