import { ConfidentialClientApplication, type INetworkModule } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aadsts, claimsOf, postToken } from '@agentid/test-support/emulator';
import { createEmulator, DEMO, type Emulator } from '../index.js';

// The agent's refresh-token grant (PROTOCOL.md, "Agent on-behalf-of"): an OBO answer with
// offline_access carries a refresh token bound to the agent identity, the user and the tenant;
// the agent redeems it with T1 as its client assertion.
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const HOUR = 3600_000;
let now = Date.UTC(2026, 5, 1, 9);
let emu: Emulator;

beforeAll(async () => {
  emu = await createEmulator({
    clock: { now: () => now },
    refreshTokenLifetimeSec: 6 * 3600,
    refreshTokenMaxAgeSec: 20 * 3600,
  });
});
afterAll(() => emu.close());

const t1For = async (agent: string): Promise<string> => {
  const r = await postToken(emu, T, {
    client_id: W.appId,
    client_secret: W.secret,
    grant_type: 'client_credentials',
    scope: 'api://AzureADTokenExchange/.default',
    fmi_path: agent,
  });
  expect(r.status).toBe(200);
  return String(r.body.access_token);
};
const oboWithRefresh = async (agent: string, user: string = DEMO.users.alice.upn) => {
  const tc = await emu.issueUserToken({ user, scopes: [`api://${W.appId}/access_agent`] });
  const r = await postToken(emu, T, {
    client_id: agent,
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    requested_token_use: 'on_behalf_of',
    assertion: tc,
    scope: 'api://tools/Mail.Read offline_access',
    client_assertion_type: JWT_BEARER,
    client_assertion: await t1For(agent),
  });
  expect(r.status).toBe(200);
  return String(r.body.refresh_token);
};
const redeem = async (agent: string, refreshToken: string, scope = 'api://tools/Mail.Read') =>
  postToken(emu, T, {
    client_id: agent,
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    scope,
    client_assertion_type: JWT_BEARER,
    client_assertion: await t1For(agent),
  });

describe('refresh_token grant for an agent identity', () => {
  it('gives new tokens for the same user, azp the agent, and a new refresh token (the redeemed one is spent)', async () => {
    const rt = await oboWithRefresh(DEMO.agents.mail);
    const r = await redeem(DEMO.agents.mail, rt);
    expect(r.status).toBe(200);
    expect(claimsOf(r.body.access_token)).toMatchObject({
      oid: DEMO.users.alice.id,
      azp: DEMO.agents.mail,
      idtyp: 'user',
      scp: 'Mail.Read',
      xms_act_fct: '11',
    });
    expect(r.body.refresh_token).toBeTypeOf('string');
    expect(r.body.refresh_token).not.toBe(rt);
    expect(aadsts((await redeem(DEMO.agents.mail, rt)).body)).toBe(70000);
    expect((await redeem(DEMO.agents.mail, String(r.body.refresh_token))).status).toBe(200);
  });

  it('refuses a refresh token redeemed by another agent or by the blueprint (AADSTS70000)', async () => {
    const rt = await oboWithRefresh(DEMO.agents.mail);
    const other = await redeem(DEMO.agents.digitalWorker, rt);
    expect({ status: other.status, error: other.body.error, code: aadsts(other.body) }).toEqual({
      status: 400,
      error: 'invalid_grant',
      code: 70000,
    });
    const asBlueprint = await postToken(emu, T, {
      client_id: W.appId,
      client_secret: W.secret,
      grant_type: 'refresh_token',
      refresh_token: rt,
    });
    expect(aadsts(asBlueprint.body)).toBe(70000);
    // Neither refusal spent it.
    expect((await redeem(DEMO.agents.mail, rt)).status).toBe(200);
    expect(aadsts((await redeem(DEMO.agents.mail, '')).body)).toBe(900144);
  });

  it('refuses an expired refresh token (inactivity, and a session past its maximum age) with AADSTS700082', async () => {
    const idle = await oboWithRefresh(DEMO.agents.mail);
    now += 6 * HOUR;
    expect(aadsts((await redeem(DEMO.agents.mail, idle)).body)).toBe(700082);
    // Rotated every 5 h, the session still ends 20 h after its first grant.
    let rt = await oboWithRefresh(DEMO.agents.mail);
    for (let i = 0; i < 3; i++) {
      now += 5 * HOUR;
      const r = await redeem(DEMO.agents.mail, rt);
      expect(r.status).toBe(200);
      rt = String(r.body.refresh_token);
    }
    now += 5 * HOUR;
    const old = await redeem(DEMO.agents.mail, rt);
    expect(aadsts(old.body)).toBe(700082);
    expect(String(old.body.error_description)).toMatch(/maximum session age/);
  });

  it("refuses a user's refresh tokens after their sessions were revoked (AADSTS50173), in process or through the admin API", async () => {
    const alice = await oboWithRefresh(DEMO.agents.mail);
    const bob = await oboWithRefresh(DEMO.agents.mail, DEMO.users.bob.upn);
    expect(emu.revokeSignInSessions(DEMO.users.alice.upn)).toBeGreaterThanOrEqual(1);
    const r = await redeem(DEMO.agents.mail, alice);
    expect({ error: r.body.error, code: aadsts(r.body) }).toEqual({ error: 'invalid_grant', code: 50173 });
    expect((await redeem(DEMO.agents.mail, bob)).status).toBe(200);
    now += 1000;
    // A new sign-in after the revocation works again; the admin route revokes the same way.
    const fresh = await oboWithRefresh(DEMO.agents.mail);
    const res = await emu.fetch(
      `${emu.baseUrl}/_emulator/users/${DEMO.users.alice.id}/revokeSignInSessions`,
      {
        method: 'POST',
      },
    );
    expect(await res.json()).toEqual({ revoked: 1 });
    expect(aadsts((await redeem(DEMO.agents.mail, fresh)).body)).toBe(50173);
    expect(() => emu.revokeSignInSessions('nobody@contoso.onmicrosoft.com')).toThrow(/unknown user/);
    await expect(createEmulator({ refreshTokenLifetimeSec: 0 })).rejects.toThrow(/refreshTokenLifetimeSec/);
    await expect(createEmulator({ refreshTokenMaxAgeSec: 1.5 })).rejects.toThrow(/refreshTokenMaxAgeSec/);
  });

  it("accepts unmodified MSAL Node's acquireTokenByRefreshToken with T1 as the agent's client assertion", async () => {
    const rt = await oboWithRefresh(DEMO.agents.mail);
    const t1 = await t1For(DEMO.agents.mail);
    const app = new ConfidentialClientApplication({
      auth: { ...emu.msalAuthOptions(T), clientId: DEMO.agents.mail, clientAssertion: t1 } as never,
      system: { networkClient: emu.networkModule as unknown as INetworkModule },
    });
    const result = await app.acquireTokenByRefreshToken({
      refreshToken: rt,
      scopes: ['api://tools/Mail.Read'],
      forceCache: true,
    });
    expect(claimsOf(result!.accessToken)).toMatchObject({ oid: DEMO.users.alice.id, azp: DEMO.agents.mail });
  });
});
