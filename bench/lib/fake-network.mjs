// A fast in-process token endpoint shared by every contender ("same fake network"): it answers
// legs 1-2, OBO and user_fic with well-formed but unsigned JWTs, so that minting 100k tokens costs
// microseconds, not RSA signatures. Brokers only decode claims; nothing here verifies signatures.
import { DEMO } from '@agentid/emulator';

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
export const jwt = (claims) =>
  `${b64({ alg: 'RS256', typ: 'JWT', kid: 'bench' })}.${b64(claims)}.${'s'.repeat(43)}`;
export const TENANT = DEMO.tenantId;
export const BASE = 'https://login.bench.test';

export function userAssertion(i, audience, now = Date.now()) {
  const t = Math.floor(now / 1000);
  return jwt({
    aud: audience,
    iss: `${BASE}/${TENANT}/v2.0`,
    tid: TENANT,
    oid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    sub: `sub-${i}`,
    idtyp: 'user',
    scp: 'access_agent',
    iat: t,
    nbf: t,
    exp: t + 3600,
    azp: DEMO.chatApp.appId,
  });
}

function authorityMetadata(origin, tenantId) {
  return {
    token_endpoint: `${origin}/${tenantId}/oauth2/v2.0/token`,
    issuer: `${origin}/${tenantId}/v2.0`,
    authorization_endpoint: `${origin}/${tenantId}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${origin}/${tenantId}/oauth2/v2.0/logout`,
    jwks_uri: `${origin}/${tenantId}/discovery/v2.0/keys`,
  };
}
function cloudDiscovery(origin, tenantId) {
  const host = new URL(origin).host;
  return {
    tenant_discovery_endpoint: `${origin}/${tenantId}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}

/**
 * @param {{ lifetimeSec?: number, latencyMs?: number, now?: () => number }} options
 */
export function createFakeNetwork(options = {}) {
  // `discovery` counts the authority-metadata GETs MSAL makes when it has no metadata for a host
  // (instance discovery, openid-configuration); they never count as a leg.
  const counts = { leg1: 0, leg2: 0, obo: 0, user_fic: 0, discovery: 0, other: 0 };
  const lifetime = options.lifetimeSec ?? 3600;
  const now = options.now ?? Date.now;
  function answer(form) {
    const t = Math.floor(now() / 1000);
    const grant = form.get('grant_type');
    const client = form.get('client_id');
    const scope = form.get('scope') ?? '';
    const resource =
      scope.split(' ').find((s) => !['openid', 'profile', 'offline_access'].includes(s)) ?? scope;
    const aud = resource.replace(/\/[^/]*$/, '');
    const base = {
      iss: `${BASE}/${TENANT}/v2.0`,
      tid: TENANT,
      iat: t,
      nbf: t,
      exp: t + lifetime,
      ver: '2.0',
    };
    let claims;
    let kind;
    if (grant === 'client_credentials' && form.get('fmi_path')) {
      kind = 'leg1';
      claims = {
        ...base,
        aud: 'api://AzureADTokenExchange',
        sub: form.get('fmi_path'),
        oid: client,
        azp: client,
        idtyp: 'app',
      };
    } else if (grant === 'client_credentials') {
      kind = 'leg2';
      claims = {
        ...base,
        aud,
        sub: client,
        oid: client,
        azp: client,
        idtyp: 'app',
        roles: ['Bench.All'],
        xms_act_fct: '11',
        xms_sub_fct: '11',
      };
    } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      kind = 'obo';
      const user = JSON.parse(Buffer.from(form.get('assertion').split('.')[1], 'base64url').toString());
      claims = {
        ...base,
        aud,
        sub: user.sub,
        oid: user.oid,
        azp: client,
        idtyp: 'user',
        scp: resource.split('/').pop(),
        xms_act_fct: '11',
      };
    } else if (grant === 'user_fic') {
      kind = 'user_fic';
      const oid = form.get('user_id') ?? '0000dddd-0000-4000-8000-000000000001';
      claims = {
        ...base,
        aud,
        sub: oid,
        oid,
        azp: client,
        idtyp: 'user',
        scp: resource.split('/').pop(),
        xms_act_fct: '11',
        xms_sub_fct: '13',
        upn: form.get('username') ?? undefined,
      };
    } else {
      counts.other++;
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    counts[kind]++;
    const body = {
      token_type: 'Bearer',
      access_token: jwt(claims),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      refresh_in: Math.floor(lifetime / 2),
    };
    if (form.get('client_info')) body.client_info = b64({ uid: claims.oid, utid: TENANT });
    if (scope.includes('openid'))
      body.id_token = jwt({
        ...base,
        aud: client,
        sub: claims.sub,
        oid: claims.oid,
        preferred_username: claims.upn ?? `${claims.oid}@bench`,
      });
    return { status: 200, body };
  }
  const delay = () => (options.latencyMs ? new Promise((r) => setTimeout(r, options.latencyMs)) : undefined);
  /** answers MSAL's authority-metadata GETs for any host, as Entra does for its own */
  function discover(url) {
    const u = new URL(url);
    if (u.pathname.endsWith('/discovery/instance')) {
      const authorize = new URL(u.searchParams.get('authorization_endpoint') ?? BASE);
      const tenant = authorize.pathname.split('/').filter(Boolean)[0] ?? 'common';
      return { status: 200, body: cloudDiscovery(authorize.origin, tenant) };
    }
    const m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(u.pathname);
    if (m) return { status: 200, body: authorityMetadata(u.origin, m[1]) };
    return undefined;
  }
  /** fetch for @agentid/core, and the global fetch of @microsoft/agents-hosting (lib/agents-hosting.mjs) */
  const fetchImpl = async (url, init) => {
    await delay();
    const method = String(init?.method ?? (init?.body ? 'POST' : 'GET')).toUpperCase();
    let r;
    if (method === 'GET') {
      r = discover(String(url));
      if (r) counts.discovery++;
      else {
        counts.other++;
        r = { status: 404, body: { error: 'not_found' } };
      }
    } else r = answer(new URLSearchParams(String(init?.body ?? '')));
    return new Response(JSON.stringify(r.body), {
      status: r.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  /** MSAL INetworkModule for raw MSAL Node */
  const networkModule = {
    async sendGetRequestAsync() {
      return { status: 404, headers: {}, body: {} };
    },
    async sendPostRequestAsync(_url, options) {
      await delay();
      const r = answer(new URLSearchParams(String(options?.body ?? '')));
      return { status: r.status, headers: { 'content-type': 'application/json' }, body: r.body };
    },
  };
  const msalAuth = (tenantId = TENANT) => ({
    authority: `${BASE}/${tenantId}`,
    knownAuthorities: [new URL(BASE).host],
    authorityMetadata: JSON.stringify(authorityMetadata(BASE, tenantId)),
    cloudDiscoveryMetadata: JSON.stringify(cloudDiscovery(BASE, tenantId)),
  });
  return {
    fetch: fetchImpl,
    networkModule,
    msalAuth,
    counts,
    reset: () => Object.keys(counts).forEach((k) => (counts[k] = 0)),
  };
}
