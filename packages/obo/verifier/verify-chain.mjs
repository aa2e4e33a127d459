// Standalone verifier of an agentid delegation chain (the `x-agentid-delegation` header), for a
// service that does not run agentid. Copy this file: it needs only `jose` (https://github.com/panva/jose)
// and a platform with WebCrypto (Node >= 20, Deno, Bun, browsers, workers). The format and each check
// are described in the README of @agentid/obo ("The chain format").
import {
  base64url,
  compactVerify,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
} from 'jose';

const TYP = 'agentid-chain+jwt';
const PROFILES = new Set(['user', 'agent_user', 'agent_identity', 'application']);
const remoteSets = new Map();

/**
 * Verifies a chain header against the access token it came with, and returns the chain.
 * Call it after the access token itself was validated (signature, issuer, audience): it reads the
 * token's `oid`, `tid` and `azp` to bind the chain to it.
 *
 * @param {string | string[] | undefined} header the `x-agentid-delegation` header value
 * @param {string} accessToken the bearer token of the same request
 * @param {{ jwks: { keys: object[] } | string | URL, issuer?: string, maxHops?: number,
 *   clockToleranceSec?: number, now?: () => number, algorithms?: string[] }} options
 *   `jwks`: the chain JWKS (an object, or the URL it is served at); `issuer` (default
 *   `urn:agentid:chain`), `maxHops` (default 5), `algorithms` (default ES256, PS256)
 * @returns {Promise<{ iss: string, exp: number, subject: { sub: string, sub_profile: string, tid: string },
 *   actors: Array<{ sub: string, sub_profile: string, tid: string, xms_par_app_azp?: string }>,
 *   chain: string[], depth: number, prev?: { iss: string, hash: string } }>} actors and chain in
 *   order, first = the agent the subject called, last = the current actor
 * @throws {Error} with `code`: AGENTID_DELEGATION_MISSING, AGENTID_DELEGATION_INVALID,
 *   AGENTID_DELEGATION_CYCLE or AGENTID_HOP_LIMIT
 */
export async function verifyChain(header, accessToken, options) {
  const fail = (code, message) => Object.assign(new Error(message), { name: 'ChainVerificationError', code });
  const invalid = (message) => fail('AGENTID_DELEGATION_INVALID', message);
  const { issuer = 'urn:agentid:chain', maxHops = 5, clockToleranceSec = 60 } = options ?? {};
  const algorithms = options?.algorithms ?? ['ES256', 'PS256'];
  const nowSec = Math.floor((options?.now?.() ?? Date.now()) / 1000);
  if (!options?.jwks) throw new TypeError('verifyChain: options.jwks is required');
  if (header === undefined || (Array.isArray(header) && header.length === 0))
    throw fail('AGENTID_DELEGATION_MISSING', 'No delegation header');
  if (Array.isArray(header) && header.length > 1) throw invalid('More than one delegation header');
  const jws = Array.isArray(header) ? header[0] : header;
  if (typeof jws !== 'string' || jws.length === 0 || jws.length > 8192) throw invalid('Empty or too long');
  if (typeof accessToken !== 'string' || accessToken === '') throw invalid('No access token to bind to');

  // 1. Explicitly typed JWS, asymmetric algorithm, signature by a key of the JWKS.
  let protectedHeader;
  try {
    protectedHeader = decodeProtectedHeader(jws);
  } catch {
    throw invalid('Not a compact JWS');
  }
  if (protectedHeader.typ !== TYP) throw invalid(`typ is not ${TYP}`);
  if (!algorithms.includes(protectedHeader.alg)) throw invalid('Algorithm not allowed');
  let keys;
  if (typeof options.jwks === 'string' || options.jwks instanceof URL) {
    const url = String(options.jwks);
    if (!remoteSets.has(url)) remoteSets.set(url, createRemoteJWKSet(new URL(url)));
    keys = remoteSets.get(url);
  } else keys = createLocalJWKSet(options.jwks);
  let claims;
  try {
    const { payload } = await compactVerify(jws, keys, { algorithms });
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw invalid('Signature does not verify with the chain JWKS');
  }
  if (typeof claims !== 'object' || claims === null) throw invalid('Payload is not a JSON object');

  // 2. Issuer and lifetime.
  if (claims.iss !== issuer) throw invalid('Issued by another trust domain');
  if (typeof claims.exp !== 'number' || claims.exp + clockToleranceSec < nowSec) throw invalid('Expired');
  if (typeof claims.iat === 'number' && claims.iat - clockToleranceSec > nowSec)
    throw invalid('Issued in the future');

  // 3. Bound to this access token: ath = base64url(SHA-256(token)), as DPoP's ath.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken)));
  const ath = base64url.encode(digest);
  if (claims.ath !== ath) throw invalid('Bound to another access token');

  // 4. The subject, then the nested actors (outermost = current actor), each well formed.
  const str = (v) => typeof v === 'string' && v !== '';
  const subject = { sub: claims.sub, sub_profile: claims.sub_profile ?? 'user', tid: claims.tid };
  if (!str(subject.sub) || !str(subject.tid) || !PROFILES.has(subject.sub_profile))
    throw invalid('No subject');
  const outermostFirst = [];
  for (let node = claims.act; node !== undefined; node = node.act) {
    if (outermostFirst.length >= maxHops) throw fail('AGENTID_HOP_LIMIT', `More than ${maxHops} actors`);
    if (typeof node !== 'object' || node === null || Array.isArray(node))
      throw invalid('An actor is not an object');
    if (!str(node.sub) || !str(node.tid) || !PROFILES.has(node.sub_profile)) throw invalid('Malformed actor');
    if (node.xms_par_app_azp !== undefined && !str(node.xms_par_app_azp))
      throw invalid('Malformed blueprint');
    const { sub, sub_profile, tid, xms_par_app_azp } = node;
    outermostFirst.push({
      sub: sub.toLowerCase(),
      sub_profile,
      tid: tid.toLowerCase(),
      ...(xms_par_app_azp ? { xms_par_app_azp: xms_par_app_azp.toLowerCase() } : {}),
    });
  }
  if (outermostFirst.length === 0) throw invalid('No actors');
  const actors = outermostFirst.reverse();
  const chain = actors.map((a) => a.sub);
  // 5. No agent twice, in any letter case (ids are GUIDs).
  if (new Set(chain).size !== chain.length) throw fail('AGENTID_DELEGATION_CYCLE', 'An agent appears twice');

  // 6. The token's own subject, tenant and client are the chain's subject and current actor.
  let token;
  try {
    token = decodeJwt(accessToken);
  } catch {
    throw invalid('The access token is not a JWT');
  }
  const lower = (v) => (typeof v === 'string' ? v.toLowerCase() : undefined);
  if (
    (lower(token.oid) ?? lower(token.sub)) !== subject.sub.toLowerCase() ||
    lower(token.tid) !== subject.tid.toLowerCase()
  )
    throw invalid('The chain names another subject than the token');
  if ((lower(token.azp) ?? lower(token.appid)) !== chain[chain.length - 1])
    throw invalid('The current actor is not the client that obtained the token');

  const prev = claims.prev;
  if (prev !== undefined && (!str(prev?.iss) || !str(prev?.hash))) throw invalid('Malformed prev reference');
  return {
    iss: claims.iss,
    exp: claims.exp,
    subject: {
      sub: subject.sub.toLowerCase(),
      sub_profile: subject.sub_profile,
      tid: subject.tid.toLowerCase(),
    },
    actors,
    chain,
    depth: chain.length,
    ...(prev ? { prev: { iss: prev.iss, hash: prev.hash } } : {}),
  };
}
