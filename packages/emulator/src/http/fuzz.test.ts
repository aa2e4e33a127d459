import { createEmulator, DEMO, defaultSeed, type EmuResponse, type Emulator } from '@agentid/emulator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postToken } from '@agentid/test-support/emulator';
import { routeOf } from './router.js';

// Property-based: whatever arrives, the emulator answers (never throws, never hangs up unless a
// drop fault says so) with a status 200..599 and a JSON body; token-route errors in Entra's shape.
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const EX = 'api://AzureADTokenExchange/.default';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const BASE = 'https://login.agentid.test';

let emu: Emulator;
/** Real tokens, so random requests also reach the code behind signature checks. */
const tokens: string[] = [];
beforeAll(async () => {
  emu = await createEmulator({ inProcessBaseUrl: BASE });
  const t1 = await postToken(emu, T, {
    client_id: W.appId,
    client_secret: W.secret,
    grant_type: 'client_credentials',
    scope: EX,
    fmi_path: DEMO.agents.digitalWorker,
  });
  const t1s = String(t1.body.access_token);
  const t2 = await postToken(emu, T, {
    client_id: DEMO.agents.digitalWorker,
    grant_type: 'client_credentials',
    scope: EX,
    client_assertion_type: JWT_BEARER,
    client_assertion: t1s,
  });
  const graph = await postToken(emu, T, {
    client_id: W.appId,
    client_secret: W.secret,
    grant_type: 'client_credentials',
    scope: 'https://graph.microsoft.com/.default',
  });
  const user = await emu.issueUserToken({
    user: DEMO.users.alice.upn,
    scopes: [`api://${W.appId}/access_agent`],
  });
  const ext = await emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:a:b' });
  tokens.push(t1s, String(t2.body.access_token), String(graph.body.access_token), user, ext);
  for (const t of tokens) expect(t.split('.')).toHaveLength(3);
});
afterAll(() => emu.close());

const ids = [
  ...Object.values(DEMO.agents),
  W.appId,
  DEMO.blueprints.orchestrator.appId,
  DEMO.chatApp.appId,
  DEMO.users.alice.id,
  DEMO.agentUsers.digitalWorker.id,
  DEMO.managedIdentity.clientId,
  '00000000-0000-0000-0000-000000000000',
];
const grantTypes = [
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'user_fic',
  'password',
  'refresh_token',
  'authorization_code',
  'device_code',
  '',
  'CLIENT_CREDENTIALS',
];

/** Strings that tend to break parsers: lone surrogates, control characters, escapes, huge values. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom(
    '\uD800',
    '\uDFFF',
    'a\uD800b',
    '\u0000',
    '%',
    '%E0%A4%A',
    '%%',
    '\r\n',
    '{"',
    '[]',
    'null',
    '\\u0000',
    'a'.repeat(70_000),
    '😀'.repeat(5000),
    ' '.repeat(1000),
  ),
  fc.nat({ max: 300_000 }).map((n) => 'x'.repeat(n)),
);
const jwtish = fc.oneof(
  fc.constantFrom(...[0, 1, 2, 3, 4]).map((i) => tokens[i] ?? ''),
  fc
    .tuple(fc.json(), fc.json(), fc.string())
    .map(
      ([h, p, s]) => `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${s}`,
    ),
  fc.constantFrom(...[0, 1, 2, 3, 4]).map((i) => `${(tokens[i] ?? '').slice(0, -4)}AAAA`),
  fc.string().map((s) => `${s}.${s}.${s}`),
);
const value = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...ids,
      ...grantTypes,
      EX,
      'api://tools/.default',
      'api://tools/Mail.Read openid offline_access',
      'https://graph.microsoft.com/.default',
      '.default',
      'api://AzureAdTokenExchange/.default',
      JWT_BEARER,
      'on_behalf_of',
      W.secret,
      DEMO.users.alice.upn,
      DEMO.agentUsers.digitalWorker.upn,
      '{"access_token":{"xms_cc":{"values":["cp1"]}}}',
      '1',
      '2',
    ),
  },
  { weight: 2, arbitrary: jwtish },
  { weight: 2, arbitrary: nasty },
);
const fieldName = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'grant_type',
      'client_id',
      'client_secret',
      'scope',
      'fmi_path',
      'client_assertion',
      'client_assertion_type',
      'assertion',
      'requested_token_use',
      'username',
      'user_id',
      'password',
      'refresh_token',
      'claims',
      'user_federated_identity_credential',
      'client_info',
      'client-request-id',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const scopeValue = fc.oneof(
  fc.constantFrom(
    EX,
    'api://tools/.default',
    'api://reports/.default',
    'api://tools/Mail.Read',
    'api://tools/Mail.Read openid profile offline_access',
    `api://${W.appId}/access_agent`,
    'https://graph.microsoft.com/.default',
    'User.Read',
    'api://tools/.default api://reports/.default',
    'api://nope/.default',
    'openid',
  ),
  value,
);
const maybe = <V>(arb: fc.Arbitrary<V>) => fc.option(arb, { nil: undefined });
const t1 = () => tokens[0] ?? '';
/** Requests shaped like each real flow, with real credentials and tokens, then perturbed: they get past client authentication. */
const coherent = fc
  .oneof(
    // A valid leg 1 as MSAL sends it, telemetry fields and all.
    fc.record({
      client_id: fc.constant<string>(W.appId),
      client_secret: fc.constant<string>(W.secret),
      grant_type: fc.constant('client_credentials'),
      scope: fc.constantFrom(EX, 'api://AzureAdTokenExchange/.default'),
      fmi_path: fc.constant<string>(DEMO.agents.digitalWorker),
      'x-client-SKU': maybe(fc.string()),
      'x-client-VER': maybe(fc.string()),
      'client-request-id': maybe(fc.oneof(fc.uuid(), fc.string())),
      client_info: maybe(fc.constantFrom('1', '2')),
    }),
    fc.record({
      client_id: fc.constant<string>(W.appId),
      client_secret: fc.oneof(fc.constant<string>(W.secret), value),
      grant_type: fc.constant('client_credentials'),
      scope: scopeValue,
      fmi_path: maybe(fc.oneof(fc.constantFrom(...ids), value)),
      claims: maybe(value),
    }),
    fc.record({
      client_id: fc.constantFrom<string>(DEMO.agents.digitalWorker, DEMO.agents.mail),
      grant_type: fc.constant('client_credentials'),
      scope: scopeValue,
      client_assertion_type: fc.constant(JWT_BEARER),
      client_assertion: fc.oneof(fc.constant(0).map(t1), jwtish),
      claims: maybe(value),
    }),
    fc.record({
      client_id: fc.constant<string>(DEMO.agents.digitalWorker),
      grant_type: fc.constant('urn:ietf:params:oauth:grant-type:jwt-bearer'),
      requested_token_use: maybe(fc.constant('on_behalf_of')),
      assertion: maybe(jwtish),
      scope: scopeValue,
      client_assertion_type: fc.constant(JWT_BEARER),
      client_assertion: fc.oneof(fc.constant(0).map(t1), jwtish),
      client_info: maybe(fc.constantFrom('1', '2')),
    }),
    fc.record({
      client_id: fc.constant<string>(DEMO.agents.digitalWorker),
      grant_type: fc.constant('user_fic'),
      scope: scopeValue,
      client_assertion_type: fc.constant(JWT_BEARER),
      client_assertion: fc.oneof(fc.constant(0).map(t1), jwtish),
      user_federated_identity_credential: maybe(
        fc.oneof(
          fc.constant(1).map((i) => tokens[i] ?? ''),
          jwtish,
        ),
      ),
      username: maybe(fc.oneof(fc.constant<string>(DEMO.agentUsers.digitalWorker.upn), value)),
      user_id: maybe(fc.oneof(fc.constant<string>(DEMO.agentUsers.digitalWorker.id), value)),
    }),
    fc.record({
      client_id: fc.constant<string>(DEMO.chatApp.appId),
      grant_type: fc.constantFrom('password', 'refresh_token'),
      username: fc.oneof(fc.constant<string>(DEMO.users.alice.upn), value),
      password: fc.oneof(fc.constant<string>(DEMO.users.alice.password), value),
      refresh_token: maybe(value),
      scope: scopeValue,
    }),
  )
  .map((f): Record<string, string | undefined> => f)
  .chain((f) =>
    fc
      .dictionary(fieldName, value, { maxKeys: 2 })
      .map((noise) =>
        f.fmi_path === DEMO.agents.digitalWorker && f.client_secret === W.secret ? f : { ...noise, ...f },
      ),
  )
  .map((f) =>
    new URLSearchParams(
      Object.entries(f).filter((e): e is [string, string] => e[1] !== undefined),
    ).toString(),
  );
/** Form bodies: random pairs (duplicates possible), a random-ish token request, or a coherent one. */
const formBody = fc.oneof(
  fc
    .array(fc.tuple(fieldName, value), { maxLength: 12 })
    .map((pairs) => new URLSearchParams(pairs).toString()),
  fc
    .record({
      grant_type: fc.constantFrom(...grantTypes),
      client_id: fc.constantFrom(...ids),
      scope: value,
      extra: fc.dictionary(fieldName, value, { maxKeys: 6 }),
    })
    .map(({ extra, ...f }) => new URLSearchParams({ ...f, ...extra }).toString()),
  { weight: 3, arbitrary: coherent },
);
const body = fc.oneof(
  { weight: 4, arbitrary: formBody },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: nasty },
  { weight: 1, arbitrary: fc.constant('') },
);

const tenantSeg = fc.oneof(
  fc.constantFrom(
    T,
    DEMO.domain,
    'common',
    'organizations',
    'consumers',
    '0e000000-0000-4000-8000-0000000000e2',
    T.toUpperCase(),
  ),
  fc.uuid(),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
);
const seg = fc.oneof(
  fc.constantFrom(...ids),
  fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('%E0%A4%A', '..', '.', '%2F', ''),
);
const path = fc.oneof(
  tenantSeg.map((t) => `/${t}/oauth2/v2.0/token`),
  tenantSeg.map((t) => `/${t}/oauth2/token`),
  tenantSeg.map((t) => `/${t}/v2.0/.well-known/openid-configuration`),
  tenantSeg.map((t) => `/${t}/.well-known/openid-configuration`),
  tenantSeg.map((t) => `/${t}/discovery/v2.0/keys`),
  tenantSeg.map((t) => `/${t}/discovery/instance`),
  seg.map((s) => `/beta/serviceprincipals/${s}`),
  fc.constant('/beta/serviceprincipals/Microsoft.Graph.AgentIdentity'),
  fc.constant('/v1.0/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal'),
  fc.constant('/beta/users'),
  seg.map((s) => `/beta/users/${s}`),
  seg.map((s) => `/beta/directory/deletedItems/${s}`),
  fc.tuple(seg, seg).map(([a, b]) => `/beta/${a}/${b}`),
  fc
    .tuple(
      seg,
      fc.constantFrom('', 'api://AzureADTokenExchange', 'https://graph.microsoft.com/.default'),
      seg,
    )
    .map(
      ([q, r, c]) =>
        `/_mi/token?resource=${encodeURIComponent(r)}&api-version=2019-08-01&client_id=${q}&x=${c}`,
    ),
  fc
    .tuple(seg, fc.constantFrom('', 'api://AzureADTokenExchange'))
    .map(([q, r]) => `/metadata/identity/oauth2/token?resource=${encodeURIComponent(r)}&principal_id=${q}`),
  fc
    .tuple(
      fc.constantFrom('k8s', 'github', 'nope'),
      fc.constantFrom('jwks', '.well-known/openid-configuration', 'x'),
    )
    .map(([n, s]) => `/_issuers/${n}/${s}`),
  fc.constantFrom(
    '/healthz',
    '/_emulator/counters',
    '/_emulator/requests',
    '/_emulator/directory',
    '/_emulator/tokens/user',
    '/_emulator/tokens/external',
    '/_emulator/counters/reset',
    '/_emulator/nothing',
    '/',
    '',
  ),
  fc.array(seg, { maxLength: 6 }).map((s) => `/${s.join('/')}`),
);
const method = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,10}$/) },
);
const headers = fc
  .record(
    {
      'content-type': fc.constantFrom(
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded;charset=utf-8',
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'application/json',
        'text/plain',
        '',
        'multipart/form-data; boundary=x',
      ),
      authorization: fc.oneof(
        jwtish.map((t) => `Bearer ${t}`),
        nasty,
        fc.constant('Bearer'),
      ),
      metadata: fc.constantFrom('true', 'True', 'false', ''),
      'x-identity-header': fc.oneof(fc.constant('__identity__'), fc.string()),
      'client-request-id': fc.oneof(fc.uuid(), fc.string()),
    },
    { requiredKeys: [] },
  )
  .chain((h) =>
    fc
      .dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.string({ maxLength: 50 }), { maxKeys: 3 })
      .map((extra) => ({ ...extra, ...h })),
  );

interface Checked {
  res: EmuResponse;
  body: Record<string, unknown> | undefined;
}

/** The invariants every answer keeps. */
function check(reqPath: string, res: EmuResponse): Checked {
  expect(res.drop ?? false, 'a drop without a drop fault').toBe(false);
  expect(Number.isInteger(res.status)).toBe(true);
  expect(res.status).toBeGreaterThanOrEqual(200);
  expect(res.status).toBeLessThanOrEqual(599);
  if (res.status === 204) {
    expect(res.body).toBe('');
    return { res, body: undefined };
  }
  let parsed: unknown;
  expect(
    () => {
      parsed = JSON.parse(res.body);
    },
    `status ${res.status} body is not JSON: ${res.body.slice(0, 200)}`,
  ).not.toThrow();
  expect(res.headers['content-type'] ?? '').toMatch(/^application\/json/);
  const b = parsed as Record<string, unknown>;
  const route = routeOf(new URL(BASE + reqPath).pathname);
  if (route === 'token' && res.status >= 400) {
    expect(b.error, `token error without 'error': ${res.body.slice(0, 300)}`).toBeTypeOf('string');
    expect(String(b.error_description), `token error description: ${res.body.slice(0, 300)}`).toMatch(
      /^AADSTS\d+/,
    );
    expect(Array.isArray(b.error_codes), `token error without error_codes: ${res.body.slice(0, 300)}`).toBe(
      true,
    );
    expect((b.error_codes as unknown[]).every((c) => Number.isInteger(c))).toBe(true);
    expect(String(b.error_description)).toContain(`AADSTS${String((b.error_codes as number[])[0])}`);
  }
  if (route === 'graph') {
    if (res.status >= 400) {
      const e = b.error as Record<string, unknown> | undefined;
      expect(e?.code, `graph error shape: ${res.body.slice(0, 300)}`).toBeTypeOf('string');
      expect(e?.message).toBeTypeOf('string');
      expect(e?.innerError).toBeTypeOf('object');
    }
  }
  return { res, body: b };
}

describe('fuzz: emu.handle never throws and always answers well-formed', () => {
  it('random methods, paths, headers and bodies', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, headers, body, async (m, p, h, b) => {
        const url = new URL(BASE + p);
        const hs = { ...h };
        if (hs['x-identity-header'] === '__identity__') hs['x-identity-header'] = emu.identityHeader;
        const res = await emu.handle({ method: m, url, headers: hs, body: b });
        check(p, res);
      }),
      { numRuns: 800 },
    );
  }, 60_000);

  it('token endpoint: random form requests (POST, form content type) are 200 or an Entra error', async () => {
    let ok = 0;
    const codes = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 4, arbitrary: fc.constant(T) }, tenantSeg),
        formBody,
        async (t, b) => {
          const p = `/${t}/oauth2/v2.0/token`;
          const res = await emu.handle({
            method: 'POST',
            url: new URL(BASE + p),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: b,
          });
          const { body: parsed } = check(p, res);
          if (res.status === 200) {
            ok++;
            expect(parsed!.access_token).toBeTypeOf('string');
            expect(parsed!.token_type).toBe('Bearer');
          } else {
            expect(res.status).toBeGreaterThanOrEqual(400);
            codes.add((parsed!.error_codes as number[])[0]!);
          }
        },
      ),
      { numRuns: 600 },
    );
    // The generators reach past the first checks: several distinct failures.
    expect(codes.size).toBeGreaterThan(12);
    expect(ok).toBeGreaterThan(0);
  }, 60_000);

  it('a GET (or any non-POST) on the token endpoint is an Entra-shaped error with error_codes', async () => {
    for (const m of ['GET', 'PUT', 'DELETE']) {
      const p = `/${T}/oauth2/v2.0/token`;
      const res = await emu.handle({ method: m, url: new URL(BASE + p), headers: {}, body: '' });
      expect(res.status).toBe(405);
      check(p, res);
    }
  });

  it('the token endpoint stays functional after the fuzzing', async () => {
    // Random Graph calls with a real token may have deleted or disabled seeded agents: use a new one.
    const fresh = emu.directory.createAgentIdentity(T, {
      blueprintAppId: W.appId,
      sponsors: [DEMO.users.sponsor.id],
    });
    const r = await postToken(emu, T, {
      client_id: W.appId,
      client_secret: W.secret,
      grant_type: 'client_credentials',
      scope: EX,
      fmi_path: fresh.id,
    });
    expect(r.status).toBe(200);
  });
});

describe('fuzz: the HTTP server survives random token requests', () => {
  it('a few hundred random bodies over a real socket; /healthz still 200 after', async () => {
    const { httpUrl } = await emu.listen({ https: false });
    const url = `${httpUrl!}/${T}/oauth2/v2.0/token`;
    const rawBody = fc.oneof(
      formBody.map((s) => Buffer.from(s, 'utf8')),
      fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
      // Invalid UTF-8 sequences inside a form.
      fc.constantFrom(
        Buffer.from([
          0x67, 0x72, 0x61, 0x6e, 0x74, 0x5f, 0x74, 0x79, 0x70, 0x65, 0x3d, 0xc3, 0x28, 0xff, 0xfe,
        ]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.alloc(0),
      ),
    );
    const ct = fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded; charset=latin1',
    );
    await fc.assert(
      fc.asyncProperty(rawBody, ct, async (b, c) => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': c }, body: b });
        const text = await res.text();
        check(`/${T}/oauth2/v2.0/token`, {
          status: res.status,
          headers: { 'content-type': res.headers.get('content-type') ?? '' },
          body: text,
        });
      }),
      { numRuns: 300 },
    );
    expect((await fetch(`${httpUrl!}/healthz`)).status).toBe(200);
    const fresh = emu.directory.createAgentIdentity(T, {
      blueprintAppId: W.appId,
      sponsors: [DEMO.users.sponsor.id],
    });
    const ok = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: W.appId,
        client_secret: W.secret,
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: fresh.id,
      }),
    });
    expect(ok.status).toBe(200);
  }, 60_000);
});

describe('fuzz: forged client assertions never cause a server error', () => {
  let fic: Emulator;
  const ISSUER = 'https://issuer.example';
  beforeAll(async () => {
    const seed = defaultSeed();
    const w = seed.tenants[0]!.blueprints!.find((b) => b.appId === W.appId)!;
    // A federated credential record, so unsigned assertions naming its issuer reach the record matching.
    w.credentials = { ...w.credentials, federated: [{ issuer: ISSUER, subject: 'sub1' }] };
    fic = await createEmulator({ seed, inProcessBaseUrl: BASE });
  });
  afterAll(() => fic.close());

  it('random headers and claims (any JSON type for aud, sub, iss, exp, x5t, x5c) in a client assertion: 4xx, never 5xx', async () => {
    const claim = fc.oneof(
      fc.constant<unknown>(undefined),
      fc.json().map((j) => JSON.parse(j) as unknown),
      fc.constantFrom<unknown>('sub1', ISSUER, 'api://AzureADTokenExchange', W.appId),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // Federated: an external issuer's token.
          fc.record({
            iss: fc.oneof(fc.constant<unknown>(ISSUER), claim),
            sub: fc.oneof(fc.constant<unknown>('sub1'), claim),
            aud: fc.oneof(fc.constant<unknown>('api://AzureADTokenExchange'), claim),
            exp: claim,
            nbf: claim,
          }),
          // Certificate: iss = sub = the client id.
          fc.record({
            iss: fc.constant<unknown>(W.appId),
            sub: fc.constant<unknown>(W.appId),
            aud: claim,
            jti: claim,
            exp: claim,
          }),
        ),
        fc.record(
          {
            alg: fc.oneof(fc.constantFrom<unknown>('RS256', 'PS256', 'none', 'HS256'), claim),
            typ: fc.constant('JWT'),
            x5t: claim,
            'x5t#S256': claim,
            x5c: fc.oneof(claim, fc.array(fc.string(), { maxLength: 2 })),
          },
          { requiredKeys: ['alg'] },
        ),
        async (claims, header) => {
          const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
          const assertion = `${b64(header)}.${b64(claims)}.AAAA`;
          const p = `/${T}/oauth2/v2.0/token`;
          const res = await fic.handle({
            method: 'POST',
            url: new URL(BASE + p),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              client_id: W.appId,
              client_assertion_type: JWT_BEARER,
              client_assertion: assertion,
              grant_type: 'client_credentials',
              scope: EX,
              fmi_path: DEMO.agents.mail,
            }).toString(),
          });
          check(p, res);
          expect(res.status, `${JSON.stringify(claims)} -> ${res.body.slice(0, 200)}`).toBeGreaterThanOrEqual(
            400,
          );
          expect(res.status, `${JSON.stringify(claims)} -> ${res.body.slice(0, 200)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('regression: claims whose values are objects that String() cannot convert get a 4xx (found by the fuzzer above)', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const p = `/${T}/oauth2/v2.0/token`;
    for (const [claims, header] of [
      [{ iss: [{ toString: '' }], sub: 'sub1', aud: 'api://AzureADTokenExchange', nbf: [] }, { typ: 'JWT' }],
      [
        { iss: W.appId, sub: W.appId, aud: { toString: 1 }, jti: { valueOf: '' } },
        { alg: { toString: '' }, typ: 'JWT' },
      ],
      [
        { iss: { toString: '' }, sub: { toString: '' }, aud: 'api://AzureADTokenExchange' },
        { alg: 'RS256', typ: 'JWT' },
      ],
    ] as const) {
      const res = await fic.handle({
        method: 'POST',
        url: new URL(BASE + p),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: W.appId,
          client_assertion_type: JWT_BEARER,
          client_assertion: `${b64(header)}.${b64(claims)}.AAAA`,
          grant_type: 'client_credentials',
          scope: EX,
          fmi_path: DEMO.agents.mail,
        }).toString(),
      });
      expect(res.status, res.body.slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(res.status, res.body.slice(0, 200)).toBeLessThan(500);
    }
  });
});
