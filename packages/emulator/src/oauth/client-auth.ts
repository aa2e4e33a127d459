import { createPublicKey, timingSafeEqual, X509Certificate } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { issuerV1, issuerV2, tokenEndpoint, type EmulatorContext } from '../context.js';
import type { AgentIdentity, Client, Tenant } from '../directory/directory.js';
import { thumbprints } from '../crypto/certs.js';
import { JWT_BEARER, isExchangeAudience, text } from '../ids.js';
import { fail, OAuthFailure } from './errors.js';

/** Who authenticated at the token endpoint, and how. */
export type AuthenticatedClient =
  | { kind: 'blueprint' | 'app'; client: Client; method: 'secret' | 'certificate' | 'federated' | 'none' }
  | { kind: 'agent'; agent: AgentIdentity; method: 't1'; t1: JWTPayload };

export interface AuthInput {
  ctx: EmulatorContext;
  tenant: Tenant;
  base: string;
  /** The tenant segment as the client wrote it in the URL (for the assertion audience). */
  tenantSegment: string;
  params: URLSearchParams;
  /** Allow a public client with no credential (resource-owner password grant). */
  allowPublic?: boolean;
}

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function decodeAssertion(assertion: string): { header: Record<string, unknown>; payload: JWTPayload } {
  try {
    return {
      header: decodeProtectedHeader(assertion) as Record<string, unknown>,
      payload: decodeJwt(assertion),
    };
  } catch {
    throw fail.client(50027, 'JWT token is invalid or malformed.', 400);
  }
}

const timeFailure = (e: unknown): boolean => {
  const code = (e as { code?: string }).code;
  return code === 'ERR_JWT_EXPIRED' || code === 'ERR_JWT_CLAIM_VALIDATION_FAILED';
};

/** Authenticates the client of a token request the way Entra does. */
export async function authenticateClient(input: AuthInput): Promise<AuthenticatedClient> {
  const { ctx, tenant, params } = input;
  const clientId = params.get('client_id');
  if (!clientId)
    throw fail.request(900144, "The request body must contain the following parameter: 'client_id'.");
  const secret = params.get('client_secret');
  const assertion = params.get('client_assertion');
  if (secret && assertion)
    throw fail.request(
      9002324,
      'Only one client credential may be presented: client_secret and client_assertion were both sent.',
    );
  if (assertion && params.get('client_assertion_type') !== JWT_BEARER) {
    throw fail.request(900144, `client_assertion_type must be '${JWT_BEARER}'.`);
  }

  const agent = tenant.agents.get(clientId);
  if (agent && !agent.deleted) {
    if (secret)
      throw fail.client(
        7000215,
        'Agent identities have no credentials of their own (AgentIdentity_CredentialsNotSupported): present the blueprint exchange token as client_assertion.',
      );
    if (!assertion)
      throw fail.client(
        7000216,
        "The request body must contain 'client_assertion' (the blueprint's exchange token) for an agent identity.",
        400,
      );
    const t1 = await verifyExchangeToken(ctx, input.base, tenant, assertion, 'client assertion');
    const blueprint = tenant.blueprints.get(agent.blueprintAppId);
    const boundTo = typeof t1.sub === 'string' ? t1.sub.split('/').pop() : undefined;
    if (t1.azp !== blueprint?.appId || boundTo !== agent.id) {
      throw fail.client(
        700213,
        `The client assertion is not an exchange token issued to this agent identity's blueprint for agent ${agent.id}.`,
      );
    }
    return { kind: 'agent', agent, method: 't1', t1 };
  }

  const client = tenant.blueprints.get(clientId) ?? tenant.apps.get(clientId);
  if (!client) {
    const elsewhere = input.ctx.directory.locateClient(clientId);
    if (elsewhere?.kind === 'blueprint') throw noBlueprintPrincipal(clientId, tenant.id);
    if (elsewhere)
      throw fail.unauthorized(
        700211,
        `Application '${clientId}' is registered in tenant '${elsewhere.tenant.id}', not in '${tenant.id}'.`,
      );
    throw fail.unauthorized(
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant.id}'.`,
    );
  }
  if (secret !== null) {
    if (!client.credentials.secrets.some((s) => safeEqual(s, secret))) {
      throw fail.client(
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    return { kind: client.kind, client, method: 'secret' };
  }
  if (assertion) {
    const { header, payload } = decodeAssertion(assertion);
    if (payload.iss === clientId && payload.sub === clientId) {
      await verifyCertificateAssertion(input, client, assertion, header, payload);
      return { kind: client.kind, client, method: 'certificate' };
    }
    await verifyFederatedAssertion(input, client, assertion, payload);
    return { kind: client.kind, client, method: 'federated' };
  }
  if (input.allowPublic && client.publicClient) return { kind: client.kind, client, method: 'none' };
  throw fail.client(
    7000216,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    400,
  );
}

/** A multi-tenant blueprint asked for tokens in a tenant that has not added it (no principal there). */
export function noBlueprintPrincipal(appId: string, tenantId: string): OAuthFailure {
  return fail.unauthorized(
    700211,
    `The agent identity blueprint '${appId}' has no blueprint principal in tenant '${tenantId}': an administrator of that tenant must add it (admin consent) before its agent identities there can get tokens.`,
  );
}

/** Verifies a token the emulator issued for the token-exchange audience (T1 or T2). */
export async function verifyExchangeToken(
  ctx: EmulatorContext,
  base: string,
  tenant: Tenant,
  token: string,
  what: string,
): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    payload = await ctx.keys.verify(token, { clockToleranceSec: 0 });
  } catch (e) {
    if (timeFailure(e))
      throw fail.client(700024, `The ${what} is not within its valid time range (it has expired).`, 400);
    throw fail.client(700027, `The ${what} failed signature validation.`, 400);
  }
  if (payload.iss !== issuerV2(base, tenant.id) && payload.iss !== issuerV1(tenant.id)) {
    throw fail.client(
      700211,
      `The ${what} was issued for another tenant or issuer ('${text(payload.iss)}'), not '${tenant.id}'.`,
    );
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? ''];
  if (!aud.some((a) => isExchangeAudience(a)))
    throw fail.client(700212, `The ${what}'s audience is not the token-exchange audience.`);
  return payload;
}

async function verifyCertificateAssertion(
  input: AuthInput,
  client: Client,
  assertion: string,
  header: Record<string, unknown>,
  payload: JWTPayload,
): Promise<void> {
  const { ctx } = input;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  let certPem = client.credentials.certificates.find((pem) => {
    const t = thumbprints(pem);
    return (x5tS256 && t.x5tS256 === x5tS256) || (x5t && t.x5t === x5t);
  });
  const x5c = Array.isArray(header.x5c) ? (header.x5c as unknown[]) : undefined;
  if (!certPem && x5c?.length && typeof x5c[0] === 'string') {
    const pem = `-----BEGIN CERTIFICATE-----\n${x5c[0]}\n-----END CERTIFICATE-----\n`;
    try {
      const cn = /CN=([^\n,]+)/.exec(new X509Certificate(pem).subject)?.[1];
      if (cn && client.credentials.trustedSubjects.includes(cn)) certPem = pem;
    } catch {
      throw fail.client(50027, 'The x5c certificate in the client assertion is malformed.', 400);
    }
  }
  if (!certPem) {
    throw fail.client(
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application '${client.appId}'.`,
    );
  }
  const alg = header.alg;
  if (alg !== 'PS256' && alg !== 'RS256')
    throw fail.client(
      5002738,
      `Client assertion algorithm '${text(alg)}' is not supported; use PS256 (or RS256 with x5t).`,
    );
  const expectedAud = [
    tokenEndpoint(input.base, input.tenantSegment),
    tokenEndpoint(input.base, input.tenant.id),
  ];
  try {
    await jwtVerify(assertion, createPublicKey(certPem), {
      algorithms: ['PS256', 'RS256'],
      currentDate: new Date(ctx.clock.now()),
      clockTolerance: ctx.clockSkewSec,
      requiredClaims: ['exp', 'jti'],
    });
  } catch (e) {
    if (timeFailure(e))
      throw fail.client(700024, 'Client assertion is not within its valid time range.', 400);
    throw fail.client(700027, 'Client assertion failed signature validation.');
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (
    !aud.some((a) => typeof a === 'string' && expectedAud.some((e) => e.toLowerCase() === a.toLowerCase()))
  ) {
    throw fail.client(
      700212,
      `The client assertion's audience must be the token endpoint '${expectedAud[0]}'.`,
    );
  }
  if (ctx.strictJti) {
    const key = `${client.appId}:${text(payload.jti)}`;
    if (ctx.seenJti.has(key))
      throw fail.client(700021, 'The client assertion jti was already used (strict single-use mode).');
    ctx.seenJti.set(key, (payload.exp ?? 0) * 1000);
  }
}

async function verifyFederatedAssertion(
  input: AuthInput,
  client: Client,
  assertion: string,
  payload: JWTPayload,
): Promise<void> {
  const { ctx, tenant, base } = input;
  const records = client.credentials.federated.filter((f) => f.issuer === payload.iss);
  // Unsigned input at this point: keep only string audiences.
  const aud = (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).filter(
    (a): a is string => typeof a === 'string',
  );
  const match = records.find(
    (f) =>
      f.subject === payload.sub &&
      aud.some((a) => (f.audiences ?? []).some((x) => x.toLowerCase() === a.toLowerCase())),
  );
  if (!match) {
    const why =
      records.length === 0
        ? `issuer '${text(payload.iss)}'`
        : records.some((f) => f.subject === payload.sub)
          ? `audience '${aud.join(' ')}'`
          : `subject '${text(payload.sub)}'`;
    throw fail.client(
      7002137,
      `No matching federated identity record found for presented assertion ${why} on application '${client.appId}'.`,
    );
  }
  const own = payload.iss === issuerV2(base, tenant.id) || payload.iss === issuerV1(tenant.id);
  const external = [...ctx.issuers.entries()].find(
    ([name, i]) => (i.issuer ?? `${base}/_issuers/${name}`) === payload.iss,
  )?.[1];
  const keys = own ? ctx.keys : external?.keys;
  if (!keys)
    throw fail.client(
      7002137,
      `The federated assertion's issuer '${text(payload.iss)}' publishes no keys the emulator knows.`,
    );
  try {
    await keys.verify(assertion, { clockToleranceSec: ctx.clockSkewSec });
  } catch (e) {
    if (timeFailure(e))
      throw fail.client(700024, 'The federated client assertion is not within its valid time range.', 400);
    throw fail.client(700027, 'The federated client assertion failed signature validation.');
  }
}

export { OAuthFailure };
