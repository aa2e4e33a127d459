import { createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO } from '@agentid/emulator';
import { describe, expect, it } from 'vitest';
import { onBehalfOf } from '../index.js';

const O = DEMO.blueprints.orchestrator;

describe('on-behalf-of tokens that live hours (CAE-capable user tokens: 20-28 h)', () => {
  it('are capped by the lifetime policy; and a token whose exp is earlier than expires_in is kept to its exp', async () => {
    let now = Date.UTC(2026, 11, 2, 9);
    const clock = { now: () => now };
    const emu = await createEmulator({ clock, tokenLifetimeSec: 24 * 3600, refreshIn: 'none' });
    // The token endpoint's answers, with expires_in 2 h longer than each token's own exp.
    const fetchImpl: typeof fetch = async (url, init) => {
      const res = await emu.fetch(url, init);
      if (!String(url).endsWith('/token') || res.status !== 200) return res;
      const body = (await res.json()) as Record<string, unknown>;
      body.expires_in = Number(body.expires_in) + 7200;
      return new Response(JSON.stringify(body), { status: 200, headers: res.headers });
    };
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: secretCredential(O.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: fetchImpl },
      clock,
      policy: { maxLifetimeSec: 30 * 3600 },
    });
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
      lifetimeSec: 3600,
    });
    const t = await onBehalfOf(bp.agent(DEMO.agents.orchestrator), tc, ['api://tools/Files.Read']);
    // expires_in says 26 h, the token's exp 24 h: the exp wins.
    expect(t.claims!.exp! * 1000 - t.expiresOn.getTime()).toBeGreaterThanOrEqual(0);
    expect(t.claims!.exp! * 1000 - t.expiresOn.getTime()).toBeLessThanOrEqual(1000); // whole seconds
    expect(t.claims!.exp! * 1000 - now).toBe(24 * 3600_000);

    const capped = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: secretCredential(O.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
      clock,
    });
    const c = await onBehalfOf(capped.agent(DEMO.agents.orchestrator), tc, ['api://tools/Files.Read']);
    expect(c.expiresOn.getTime() - now).toBeLessThanOrEqual(3600_000);
    expect(c.expiresOn.getTime() - now).toBeGreaterThan(3500_000);
    now += 3300_000;
    const again = await onBehalfOf(capped.agent(DEMO.agents.orchestrator), tc, ['api://tools/Files.Read']);
    expect(again.token).not.toBe(c.token);
  });
});
