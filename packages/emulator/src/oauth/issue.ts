import { randomBytes } from 'node:crypto';
import type { EmulatorContext } from '../context.js';
import { issuerV1, issuerV2 } from '../context.js';
import type { Resource, Tenant } from '../directory/directory.js';
import { exchangeAudienceOf } from '../ids.js';

/** Who a token is about and who acts; everything the claims are built from. */
export interface TokenSpec {
  base: string;
  tenant: Tenant;
  /** The resource; `undefined` means the token-exchange audience. */
  resource: Resource | undefined;
  idtyp: 'app' | 'user';
  oid: string;
  sub?: string;
  azp: string;
  /** 0 public, 1 secret, 2 certificate or assertion. */
  azpacr?: '0' | '1' | '2';
  parentAppId?: string;
  actFacets?: number[];
  subFacets?: number[];
  scp?: string[];
  roles?: string[];
  upn?: string;
  name?: string;
  /** A `claims` request (claims challenge / client capabilities), already parsed. */
  claimsRequest?: ClaimsRequest;
  lifetimeSec?: number;
  extra?: Record<string, unknown>;
}

/** The parts of a `claims` request parameter the emulator honours. */
export interface ClaimsRequest {
  xmsCc?: string[];
  acrs?: string[];
}

/** Parses the `claims` form field: `{"access_token":{"xms_cc":{"values":[..]},"acrs":{"essential":true,"value":"c1"}}}`. */
export function parseClaimsRequest(raw: string | undefined): ClaimsRequest | undefined {
  if (!raw) return undefined;
  const j = JSON.parse(raw) as { access_token?: Record<string, { values?: unknown; value?: unknown }> };
  const at = j?.access_token;
  if (!at || typeof at !== 'object') return {};
  const list = (c: { values?: unknown; value?: unknown } | undefined): string[] | undefined => {
    if (!c) return undefined;
    if (Array.isArray(c.values)) return c.values.map(String);
    if (c.value !== undefined) return [String(c.value)];
    return undefined;
  };
  const out: ClaimsRequest = {};
  const cc = list(at.xms_cc);
  const acrs = list(at.acrs);
  if (cc) out.xmsCc = cc;
  if (acrs) out.acrs = acrs;
  return out;
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  claims: Record<string, unknown>;
}

/** Mints a signed access token as Entra would for the given spec. */
export async function issueAccessToken(ctx: EmulatorContext, spec: TokenSpec): Promise<IssuedToken> {
  const now = Math.floor(ctx.clock.now() / 1000);
  const lifetime = spec.lifetimeSec ?? spec.resource?.tokenLifetimeSec ?? ctx.tokenLifetimeSec;
  const v1 = spec.resource?.tokenVersion === 1;
  const claims: Record<string, unknown> = {
    aud: spec.resource
      ? v1
        ? (spec.resource.identifierUri ?? spec.resource.appId)
        : spec.resource.appId
      : exchangeAudienceOf(spec.base),
    iss: v1 ? issuerV1(spec.tenant.id) : issuerV2(spec.base, spec.tenant.id),
    iat: now,
    nbf: now,
    exp: now + lifetime,
    tid: spec.tenant.id,
    oid: spec.oid,
    sub: spec.sub ?? spec.oid,
    idtyp: spec.idtyp,
    ver: v1 ? '1.0' : '2.0',
    uti: randomBytes(16).toString('base64url'),
    ...(v1
      ? { appid: spec.azp, appidacr: spec.azpacr ?? '2' }
      : { azp: spec.azp, azpacr: spec.azpacr ?? '2' }),
  };
  if (spec.parentAppId) claims.xms_par_app_azp = spec.parentAppId;
  if (spec.actFacets?.length) claims.xms_act_fct = spec.actFacets.join(' ');
  if (spec.subFacets?.length) claims.xms_sub_fct = spec.subFacets.join(' ');
  if (spec.scp?.length) claims.scp = spec.scp.join(' ');
  if (spec.roles?.length) claims.roles = spec.roles;
  if (spec.upn) {
    claims.upn = spec.upn;
    if (!v1) claims.preferred_username = spec.upn;
  }
  if (spec.name) claims.name = spec.name;
  if (spec.claimsRequest?.xmsCc?.length) claims.xms_cc = spec.claimsRequest.xmsCc;
  if (spec.claimsRequest?.acrs?.length) claims.acrs = spec.claimsRequest.acrs;
  Object.assign(claims, spec.extra);
  return { accessToken: await ctx.keys.sign(claims), expiresIn: lifetime, claims };
}

/** An OIDC id token for the client that asked with `openid`. */
export async function issueIdToken(
  ctx: EmulatorContext,
  base: string,
  tenant: Tenant,
  clientId: string,
  user: { oid: string; upn?: string; name?: string },
): Promise<string> {
  const now = Math.floor(ctx.clock.now() / 1000);
  return ctx.keys.sign({
    aud: clientId,
    iss: issuerV2(base, tenant.id),
    iat: now,
    nbf: now,
    exp: now + 3600,
    tid: tenant.id,
    oid: user.oid,
    sub: user.oid,
    ver: '2.0',
    ...(user.upn ? { preferred_username: user.upn } : {}),
    ...(user.name ? { name: user.name } : {}),
  });
}

/** `client_info` as Entra returns it: base64url JSON of uid and utid. */
export const clientInfo = (oid: string, tid: string): string =>
  Buffer.from(JSON.stringify({ uid: oid, utid: tid })).toString('base64url');
