import { ConditionalAccessError, DownstreamError } from '@agentid/core';

/**
 * The parameters of a `WWW-Authenticate: Bearer ...` challenge (RFC 6750), lower-cased names.
 *
 * @example
 * ```ts
 * parseBearerChallenge('Bearer error="insufficient_claims", claims="eyJ..."'); // { error: 'insufficient_claims', claims: 'eyJ...' }
 * ```
 */
export function parseBearerChallenge(header: string | null | undefined): Record<string, string> | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  const m = /^\s*Bearer\b(.*)$/is.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let p = re.exec(m[1] ?? ''); p; p = re.exec(m[1] ?? ''))
    out[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return out;
}

/**
 * The claims request of a CAE `insufficient_claims` challenge, decoded from base64 to JSON text;
 * `undefined` when the answer is not such a challenge or the claims are not valid JSON.
 *
 * @example
 * ```ts
 * const claims = claimsFromChallenge(res.headers.get('www-authenticate'));
 * if (claims) token = await tool.getToken({ claims });
 * ```
 */
export function claimsFromChallenge(header: string | null | undefined): string | undefined {
  const c = parseBearerChallenge(header);
  if (!c || c.error !== 'insufficient_claims' || !c.claims) return undefined;
  try {
    const text = Buffer.from(c.claims, 'base64').toString('utf8');
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

/**
 * What a tool call does with a claims challenge it could not satisfy by one re-acquisition. An
 * on-behalf-of tool passes it up (`pass`): the claims are the user's to satisfy (MFA, a compliant
 * device), so they go back to the caller as `AGENTID_CLAIMS_CHALLENGE`, which the middleware
 * answers 401 `insufficient_claims` with the same claims; in a delegation chain, agent B's
 * challenge reaches agent A's caller, hop by hop. An agent's own token (autonomous, agent user)
 * has no user to ask: `AGENTID_DOWNSTREAM`.
 *
 * @example
 * ```ts
 * throw unsatisfiedChallenge('read_mail', 'again after a retry', claims, tool.mode === 'obo');
 * ```
 */
export function unsatisfiedChallenge(
  tool: string,
  why: string,
  claims: string,
  pass: boolean,
): ConditionalAccessError | DownstreamError {
  if (pass)
    return new ConditionalAccessError(
      'AGENTID_CLAIMS_CHALLENGE',
      `Tool '${tool}' answered a claims challenge ${why}: the user must satisfy it (sign in again with these claims)`,
      { status: 401, error: 'insufficient_claims', claims },
    );
  return new DownstreamError(
    `Tool '${tool}' answered a claims challenge ${why}; not retried (one re-acquisition per challenge, then a pause)`,
    { status: 401, error: 'insufficient_claims' },
  );
}
