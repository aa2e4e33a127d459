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
