import type { AuthenticationResult } from '@azure/msal-node';
import { createEmulator, DEMO } from '@agentid/emulator';
import { describe, expect, it } from 'vitest';
import { createBlueprint, secretCredential } from '../index.js';
import { toAcquisition } from '../broker/broker.js';
import { createManualClock } from '../util/clock.js';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: object) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2ln`;
const result = (accessToken: string, expiresOn: number, refreshOn?: number) =>
  ({
    accessToken,
    expiresOn: new Date(expiresOn),
    ...(refreshOn ? { refreshOn: new Date(refreshOn) } : {}),
  }) as unknown as AuthenticationResult;

describe("toAcquisition: the token's own exp wins over expires_in when it is earlier", () => {
  const now = Date.UTC(2026, 0, 1);
  const nowSec = now / 1000;

  it('an exp earlier than expires_in says: the exp', () => {
    const a = toAcquisition(
      result(jwt({ oid: 'x', exp: nowSec + 3000 }), now + 3600_000),
      ['api://r/.default'],
      now,
    );
    expect(a.expiresInSec).toBe(3000);
  });

  it('an exp later than expires_in says: expires_in', () => {
    const a = toAcquisition(result(jwt({ exp: nowSec + 5000 }), now + 3600_000), ['api://r/.default'], now);
    expect(a.expiresInSec).toBe(3600);
  });

  it("exp is read against the store's clock (clockNow), expires_in against the real one (now)", () => {
    const storeNow = now + 86_400_000; // an injected clock a day ahead, as the emulator's tokens are
    const a = toAcquisition(
      result(jwt({ exp: storeNow / 1000 + 1200 }), now + 3600_000),
      ['api://r/.default'],
      now,
      storeNow,
    );
    expect(a.expiresInSec).toBe(1200);
  });

  it('no exp: expires_in alone', () => {
    expect(
      toAcquisition(result(jwt({ oid: 'x' }), now + 600_000), ['api://r/.default'], now).expiresInSec,
    ).toBe(600);
  });
});

describe('an endpoint whose expires_in outlives the token (against the emulator)', () => {
  it('is never served past the exp the token carries', async () => {
    const clock = createManualClock(Date.now());
    const emu = await createEmulator({ clock, refreshIn: 'none' });
    try {
      // The emulator's answers, with expires_in 10 minutes longer than the token's own exp.
      const lying: typeof fetch = async (input, init) => {
        const res = await emu.fetch(input, init);
        const body = (await res.json()) as Record<string, unknown>;
        if (typeof body.expires_in === 'number') body.expires_in += 600;
        return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
      };
      const bp = createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: DEMO.blueprints.workers.appId,
        credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
        authorityHost: emu.baseUrl,
        network: { fetch: lying },
        clock,
      });
      const agent = bp.agent(DEMO.agents.mail);
      const t = await agent.getToken(['api://reports/.default']);
      const expMs = t.claims!.exp! * 1000;
      expect(t.expiresOn.getTime()).toBeLessThanOrEqual(expMs);
      expect(emu.counters.tokenRequests('leg2')).toBe(1);
      // 60 s past its exp (and well within what expires_in claimed): a new token, not this one.
      clock.set(expMs + 60_000);
      const next = await agent.getToken(['api://reports/.default']);
      expect(next.token).not.toBe(t.token);
      expect(next.expiresOn.getTime()).toBeGreaterThan(clock.now());
      expect(emu.counters.tokenRequests('leg2')).toBe(2);
    } finally {
      await emu.close();
    }
  });
});
