import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO, defaultSeed, type Emulator } from '../index.js';
import { aadsts, claimsOf, postToken } from '@agentid/test-support/emulator';

const T = DEMO.tenantId;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const EX = 'api://AzureADTokenExchange/.default';
const W = DEMO.blueprints.workers;
const secretCreds = { client_id: W.appId, client_secret: W.secret };

let clock = Date.now();
let emu: Emulator;
beforeAll(async () => {
  const seed = defaultSeed();
  // A second tenant, to check tokens cannot cross tenants.
  seed.tenants.push({
    id: '0e000000-0000-4000-8000-0000000000e2',
    users: [{ id: '0e000000-0000-4000-8000-000000000001', userPrincipalName: 'eve@fabrikam.example' }],
    blueprints: [{ appId: '0e000000-0000-4000-8000-0000000000b1', credentials: { secrets: ['fab-secret'] } }],
    agents: [
      {
        id: '0e000000-0000-4000-8000-0000000000a1',
        blueprintAppId: '0e000000-0000-4000-8000-0000000000b1',
        sponsors: ['0e000000-0000-4000-8000-000000000001'],
      },
    ],
  });
  emu = await createEmulator({ seed, clock: { now: () => clock } });
});
afterAll(() => emu.close());

const t1For = async (
  agent: string,
  creds: Record<string, string> = secretCreds,
  tenant: string = T,
): Promise<string> => {
  const r = await postToken(emu, tenant, {
    ...creds,
    grant_type: 'client_credentials',
    scope: EX,
    fmi_path: agent,
  });
  expect(r.status).toBe(200);
  return String(r.body.access_token);
};
const leg2 = (agent: string, t1: string, scope = 'api://tools/.default') =>
  postToken(emu, T, {
    client_id: agent,
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: JWT_BEARER,
    client_assertion: t1,
  });

async function expectError(
  p: Promise<{ status: number; body: Record<string, unknown> }>,
  code: number,
  error?: string,
): Promise<Record<string, unknown>> {
  const r = await p;
  expect({ status: r.status >= 400, code: aadsts(r.body) }).toEqual({ status: true, code });
  if (error) expect(r.body.error).toBe(error);
  return r.body;
}

describe('token endpoint: leg 1 and leg 2', () => {
  it('answers errors in Entra shape', async () => {
    const b = await expectError(
      postToken(emu, T, { ...secretCreds, grant_type: 'client_credentials', scope: EX }),
      82008,
      'invalid_request',
    );
    expect(String(b.error_description)).toMatch(
      /^AADSTS82008: .* Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: /,
    );
    expect(b).toHaveProperty('trace_id');
    expect(b).toHaveProperty('correlation_id');
    expect(b).toHaveProperty('timestamp');
  });
  it('rejects an empty fmi_path, an fmi_path with another scope, and fmi_path for a plain app', async () => {
    await expectError(
      postToken(emu, T, { ...secretCreds, grant_type: 'client_credentials', scope: EX, fmi_path: '' }),
      82008,
    );
    await expectError(
      postToken(emu, T, {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: 'api://tools/.default',
        fmi_path: DEMO.agents.mail,
      }),
      70011,
    );
  });
  it('rejects an agent of another blueprint, an unknown agent and an agent of another tenant', async () => {
    await expectError(
      postToken(emu, T, {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.orchestrator,
      }),
      700016,
    );
    await expectError(
      postToken(emu, T, {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: '00000000-0000-4000-8000-000000000999',
      }),
      700016,
    );
    await expectError(
      postToken(emu, T, {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: '0e000000-0000-4000-8000-0000000000a1',
      }),
      700211,
    );
  });
  it('checks the client credential: wrong secret, none, both, unknown client, client in another tenant', async () => {
    await expectError(
      postToken(emu, T, {
        client_id: W.appId,
        client_secret: 'nope',
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      }),
      7000215,
      'invalid_client',
    );
    await expectError(
      postToken(emu, T, {
        client_id: W.appId,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      }),
      7000216,
    );
    await expectError(
      postToken(emu, T, {
        ...secretCreds,
        client_assertion_type: JWT_BEARER,
        client_assertion: 'a.b.c',
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      }),
      9002324,
    );
    await expectError(
      postToken(emu, T, {
        client_id: '00000000-0000-4000-8000-00000000dead',
        client_secret: 'x',
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      }),
      700016,
    );
    await expectError(
      postToken(emu, T, {
        client_id: '0e000000-0000-4000-8000-0000000000b1',
        client_secret: 'fab-secret',
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      }),
      700211,
    );
  });
  it('leg 2 checks T1: bound to that agent, signature, audience, tenant, expiry', async () => {
    const t1 = await t1For(DEMO.agents.mail);
    expect((await leg2(DEMO.agents.mail, t1)).status).toBe(200);
    await expectError(leg2(DEMO.agents.calendar, t1), 700213, 'invalid_client');
    const [h, p] = t1.split('.');
    await expectError(leg2(DEMO.agents.mail, `${h}.${p}.${'A'.repeat(342)}`), 700027);
    // A leg-2 app token for a resource is not an exchange token.
    const app = String((await leg2(DEMO.agents.mail, t1)).body.access_token);
    await expectError(leg2(DEMO.agents.mail, app), 700212);
    const foreign = await t1For(
      '0e000000-0000-4000-8000-0000000000a1',
      { client_id: '0e000000-0000-4000-8000-0000000000b1', client_secret: 'fab-secret' },
      '0e000000-0000-4000-8000-0000000000e2',
    );
    await expectError(leg2(DEMO.agents.mail, foreign), 700211);
    const saved = clock;
    clock += 2 * 3600_000;
    try {
      await expectError(leg2(DEMO.agents.mail, t1), 700024);
    } finally {
      clock = saved;
    }
  });
  it('agent identities have no credentials of their own', async () => {
    await expectError(
      postToken(emu, T, {
        client_id: DEMO.agents.mail,
        client_secret: 'x',
        grant_type: 'client_credentials',
        scope: 'api://tools/.default',
      }),
      7000215,
    );
    await expectError(
      postToken(emu, T, {
        client_id: DEMO.agents.mail,
        grant_type: 'client_credentials',
        scope: 'api://tools/.default',
      }),
      7000216,
    );
  });
  it('client credentials need <resource>/.default, a known resource, one resource', async () => {
    const t1 = await t1For(DEMO.agents.mail);
    await expectError(leg2(DEMO.agents.mail, t1, 'api://tools/Mail.Read'), 1002012, 'invalid_scope');
    await expectError(leg2(DEMO.agents.mail, t1, 'api://nope/.default'), 500011, 'invalid_resource');
    await expectError(leg2(DEMO.agents.mail, t1, 'api://tools/.default api://reports/.default'), 70011);
  });
  it('inherits blueprint permissions and never issues a blocked high-privilege role', async () => {
    const t1 = await t1For(DEMO.agents.reporter);
    const reports = claimsOf(
      (await leg2(DEMO.agents.reporter, t1, 'api://reports/.default')).body.access_token,
    );
    expect(reports.roles).toEqual(['Reports.Generate']);
    emu.directory.tenants.get(T)!.appRoleAssignments.push({
      principalId: DEMO.agents.reporter,
      resourceAppId: DEMO.resources.tools.appId,
      role: 'Directory.ReadWrite.All',
    });
    const tools = claimsOf((await leg2(DEMO.agents.reporter, t1)).body.access_token);
    expect(tools.roles).toEqual(['Tickets.ReadWrite.All']);
  });
  it('a disabled agent, or a disabled blueprint, gets no token', async () => {
    emu.directory.setAgentEnabled(T, DEMO.agents.calendar, false);
    await expectError(
      postToken(emu, T, {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.calendar,
      }),
      7000112,
      'unauthorized_client',
    );
    emu.directory.setAgentEnabled(T, DEMO.agents.calendar, true);
    const t1 = await t1For(DEMO.agents.calendar);
    emu.directory.setBlueprintEnabled(T, W.appId, false);
    try {
      await expectError(leg2(DEMO.agents.calendar, t1), 7000112);
      await expectError(
        postToken(emu, T, {
          ...secretCreds,
          grant_type: 'client_credentials',
          scope: EX,
          fmi_path: DEMO.agents.calendar,
        }),
        7000112,
      );
    } finally {
      emu.directory.setBlueprintEnabled(T, W.appId, true);
    }
  });
  it('strict jti mode rejects a reused certificate assertion (off by default)', async () => {
    const { createCertificate } = await import('../crypto/certs.js');
    const { SignJWT } = await import('jose');
    const { createPrivateKey, randomUUID } = await import('node:crypto');
    const cert = createCertificate({ subject: 'strict' });
    const seed = defaultSeed();
    seed.tenants[0]!.blueprints![1]!.credentials = { certificates: [cert.certPem] };
    const strict = await createEmulator({ seed, strictJti: true });
    const lax = await createEmulator({ seed });
    for (const [e, reuseOk] of [
      [lax, true],
      [strict, false],
    ] as const) {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({
        aud: e.tokenEndpoint(T),
        iss: W.appId,
        sub: W.appId,
        jti: randomUUID(),
        iat: now,
        nbf: now,
        exp: now + 600,
      })
        .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': cert.x5tS256 })
        .sign(createPrivateKey(cert.keyPem));
      const form = {
        client_id: W.appId,
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      };
      expect((await postToken(e, T, form)).status).toBe(200);
      const again = await postToken(e, T, form);
      expect(again.status === 200).toBe(reuseOk);
      if (!reuseOk) expect(aadsts(again.body)).toBe(700021);
      // Audience must be the token endpoint.
      const wrongAud = await new SignJWT({
        aud: 'https://elsewhere/token',
        iss: W.appId,
        sub: W.appId,
        jti: randomUUID(),
        exp: now + 600,
      })
        .setProtectedHeader({ alg: 'PS256', 'x5t#S256': cert.x5tS256 })
        .sign(createPrivateKey(cert.keyPem));
      expect(aadsts((await postToken(e, T, { ...form, client_assertion: wrongAud })).body)).toBe(700212);
    }
  });
});

describe('token endpoint: OBO and user_fic', () => {
  const workersAud = `api://${W.appId}/access_agent`;
  const obo = (agent: string, t1: string, assertion: string, scope = 'api://tools/Mail.Read') =>
    postToken(emu, T, {
      client_id: agent,
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      assertion,
      scope,
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
    });

  it('OBO checks the user token: audience = the blueprint, a user token, not expired, signed', async () => {
    const t1 = await t1For(DEMO.agents.mail);
    const good = await emu.issueUserToken({ user: DEMO.users.alice.upn, scopes: [workersAud] });
    expect((await obo(DEMO.agents.mail, t1, good)).status).toBe(200);
    const wrongAud = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      scopes: [`api://${DEMO.blueprints.orchestrator.appId}/access_agent`],
    });
    await expectError(obo(DEMO.agents.mail, t1, wrongAud), 50013, 'invalid_grant');
    const appToken = String((await leg2(DEMO.agents.mail, t1)).body.access_token);
    await expectError(obo(DEMO.agents.mail, t1, appToken), 50013);
    const short = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      scopes: [workersAud],
      lifetimeSec: 60,
    });
    const saved = clock;
    clock += 10 * 60_000;
    try {
      await expectError(obo(DEMO.agents.mail, await t1For(DEMO.agents.mail), short), 500133);
    } finally {
      clock = saved;
    }
    const [h, p] = good.split('.');
    await expectError(obo(DEMO.agents.mail, t1, `${h}.${p}.AAAA`), 50013);
    await expectError(obo(DEMO.agents.mail, t1, good, 'api://tools/Calendars.Read'), 65001);
    await expectError(obo(DEMO.agents.mail, t1, good, 'api://tools/Nope'), 70011);
  });
  it('OBO with .default gives exactly the consented scopes', async () => {
    const t1 = await t1For(DEMO.agents.mail);
    const tc = await emu.issueUserToken({ user: DEMO.users.alice.upn, scopes: [workersAud] });
    const r = await obo(DEMO.agents.mail, t1, tc, 'api://tools/.default');
    expect(claimsOf(r.body.access_token).scp).toBe('Mail.Read Mail.Send');
  });

  const userFic = async (fields: Record<string, string>, agent: string = DEMO.agents.digitalWorker) => {
    const t1 = await t1For(agent);
    const t2 = String((await leg2(agent, t1, EX)).body.access_token);
    return postToken(emu, T, {
      client_id: agent,
      grant_type: 'user_fic',
      scope: 'api://tools/Mail.Read',
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
      user_federated_identity_credential: t2,
      ...fields,
    });
  };
  it('user_fic: user_id must be an object id, the user must be linked to the agent, exactly one identifier', async () => {
    expect((await userFic({ user_id: DEMO.agentUsers.digitalWorker.id })).status).toBe(200);
    await expectError(userFic({ user_id: DEMO.agentUsers.digitalWorker.upn }), 50000);
    await expectError(userFic({ username: 'ghost@contoso.onmicrosoft.com' }), 50034);
    await expectError(userFic({ username: DEMO.users.alice.upn }), 50000);
    await expectError(userFic({ username: DEMO.agentUsers.digitalWorker.upn }, DEMO.agents.mail), 50000);
    await expectError(
      userFic({ username: DEMO.agentUsers.digitalWorker.upn, user_id: DEMO.agentUsers.digitalWorker.id }),
      900144,
    );
    await expectError(userFic({}), 900144);
  });
  it('user_fic checks T2: it must be the same agent’s instance token', async () => {
    const t1 = await t1For(DEMO.agents.digitalWorker);
    const otherT2 = String(
      (await leg2(DEMO.agents.mail, await t1For(DEMO.agents.mail), EX)).body.access_token,
    );
    await expectError(
      postToken(emu, T, {
        client_id: DEMO.agents.digitalWorker,
        grant_type: 'user_fic',
        scope: 'api://tools/Mail.Read',
        client_assertion_type: JWT_BEARER,
        client_assertion: t1,
        user_federated_identity_credential: otherT2,
        username: DEMO.agentUsers.digitalWorker.upn,
      }),
      700213,
    );
    // T1 is not an instance token either.
    await expectError(
      postToken(emu, T, {
        client_id: DEMO.agents.digitalWorker,
        grant_type: 'user_fic',
        scope: 'api://tools/Mail.Read',
        client_assertion_type: JWT_BEARER,
        client_assertion: t1,
        user_federated_identity_credential: t1,
        username: DEMO.agentUsers.digitalWorker.upn,
      }),
      700213,
    );
  });
  it('remembers at most maxRefreshTokens refresh tokens (the oldest are forgotten): a long-running emulator stays bounded', async () => {
    const small = await createEmulator({ maxRefreshTokens: 2 });
    try {
      const leg1 = await postToken(small, T, {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      });
      const t1 = String(leg1.body.access_token);
      const tc = await small.issueUserToken({ user: DEMO.users.alice.upn, scopes: [workersAud] });
      const rts: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await postToken(small, T, {
          client_id: DEMO.agents.mail,
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          requested_token_use: 'on_behalf_of',
          assertion: tc,
          scope: 'api://tools/Mail.Read offline_access',
          client_assertion_type: JWT_BEARER,
          client_assertion: t1,
        });
        rts.push(String(r.body.refresh_token));
      }
      const redeem = (rt: string) =>
        postToken(small, T, {
          client_id: DEMO.agents.mail,
          grant_type: 'refresh_token',
          refresh_token: rt,
          client_assertion_type: JWT_BEARER,
          client_assertion: t1,
        });
      expect((await redeem(rts[0]!)).status).toBe(400);
      expect((await redeem(rts[2]!)).status).toBe(200);
      await expect(createEmulator({ maxRefreshTokens: 0 })).rejects.toThrow(/maxRefreshTokens/);
      await expect(createEmulator({ clock: (() => 0) as never })).rejects.toThrow(
        /clock must be an object with a now\(\) method/,
      );
    } finally {
      await small.close();
    }
  });

  it('password grant, refresh_token grant for an agent (T1 as credential)', async () => {
    const pw = await postToken(emu, T, {
      client_id: DEMO.chatApp.appId,
      grant_type: 'password',
      username: DEMO.users.alice.upn,
      password: DEMO.users.alice.password,
      scope: `api://${DEMO.blueprints.orchestrator.appId}/access_agent openid`,
    });
    expect(pw.status).toBe(200);
    expect(claimsOf(pw.body.access_token)).toMatchObject({
      oid: DEMO.users.alice.id,
      azp: DEMO.chatApp.appId,
      scp: 'access_agent',
    });
    expect(pw.body.id_token).toBeTypeOf('string');
    await expectError(
      postToken(emu, T, {
        client_id: DEMO.chatApp.appId,
        grant_type: 'password',
        username: DEMO.users.alice.upn,
        password: 'wrong',
        scope: `api://${DEMO.blueprints.orchestrator.appId}/access_agent`,
      }),
      50126,
    );
    const t1 = await t1For(DEMO.agents.mail);
    const tc = await emu.issueUserToken({ user: DEMO.users.alice.upn, scopes: [workersAud] });
    const first = await obo(DEMO.agents.mail, t1, tc, 'api://tools/Mail.Read offline_access');
    expect(first.body.refresh_token).toBeTypeOf('string');
    const rt = await postToken(emu, T, {
      client_id: DEMO.agents.mail,
      grant_type: 'refresh_token',
      refresh_token: String(first.body.refresh_token),
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
    });
    expect(rt.status).toBe(200);
    expect(claimsOf(rt.body.access_token)).toMatchObject({ oid: DEMO.users.alice.id, azp: DEMO.agents.mail });
    await expectError(
      postToken(emu, T, {
        client_id: DEMO.agents.mail,
        grant_type: 'refresh_token',
        refresh_token: String(first.body.refresh_token),
        client_assertion_type: JWT_BEARER,
        client_assertion: t1,
      }),
      70000,
    );
  });
});

describe('token endpoint: malformed requests', () => {
  it('unsupported grant, missing grant, duplicated parameters, wrong content type, unknown tenant, GET', async () => {
    await expectError(
      postToken(emu, T, { ...secretCreds, grant_type: 'magic' }),
      70003,
      'unsupported_grant_type',
    );
    await expectError(postToken(emu, T, { ...secretCreds }), 900144);
    const dup = await emu.fetch(`${emu.baseUrl}/${T}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=${W.appId}&client_id=${W.appId}&client_secret=${W.secret}&scope=${encodeURIComponent(EX)}&fmi_path=${DEMO.agents.mail}`,
    });
    expect(aadsts((await dup.json()) as Record<string, unknown>)).toBe(9002313);
    const json = await emu.fetch(`${emu.baseUrl}/${T}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    await expectError(
      postToken(emu, 'no-such-tenant', {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
      }),
      90002,
    );
    expect((await emu.fetch(`${emu.baseUrl}/${T}/oauth2/v2.0/token`)).status).toBe(405);
    await expectError(
      postToken(emu, T, {
        ...secretCreds,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: DEMO.agents.mail,
        claims: '{not json',
      }),
      90019,
    );
  });
  it('counts every request by grant and client, failures included', async () => {
    emu.counters.reset();
    await t1For(DEMO.agents.mail);
    await postToken(emu, T, {
      client_id: W.appId,
      client_secret: 'nope',
      grant_type: 'client_credentials',
      scope: EX,
      fmi_path: DEMO.agents.mail,
    });
    const s = emu.counters.snapshot();
    expect(s.byGrant.leg1).toBe(2);
    expect(s.byClient[W.appId]).toBe(2);
    expect(s.byStatus).toEqual({ '200': 1, '401': 1 });
    expect(emu.counters.requests({ grant: 'leg1', fmiPath: DEMO.agents.mail })).toHaveLength(2);
    expect(JSON.stringify(emu.counters.requests())).not.toContain(W.secret);
  });
});
