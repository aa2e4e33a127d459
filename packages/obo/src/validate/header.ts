import { TokenValidationError } from '@agentid/core';

/** Longest bearer token accepted (Entra tokens are a few KB; CAE and group claims stay well under). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Extracts the bearer token from an `Authorization` header value. Missing, duplicated, oversized,
 * non-Bearer or malformed headers throw `TokenValidationError` with code `AGENTID_UNAUTHENTICATED`
 * (the message never repeats the header).
 *
 * @example
 * ```ts
 * const token = parseAuthorizationHeader(req.headers.authorization);
 * ```
 */
export function parseAuthorizationHeader(header: string | readonly string[] | undefined | null): string {
  if (header === undefined || header === null || header === '')
    throw new TokenValidationError(
      'AGENTID_UNAUTHENTICATED',
      'No Authorization header: a bearer token is required',
    );
  if (Array.isArray(header)) {
    if (header.length !== 1)
      throw new TokenValidationError('AGENTID_UNAUTHENTICATED', 'More than one Authorization header');
    return parseAuthorizationHeader(header[0]);
  }
  if (typeof header !== 'string')
    throw new TokenValidationError('AGENTID_UNAUTHENTICATED', 'The Authorization header is not a string');
  if (header.length > MAX_TOKEN_LENGTH + 16)
    throw new TokenValidationError(
      'AGENTID_UNAUTHENTICATED',
      `The Authorization header is longer than ${MAX_TOKEN_LENGTH} characters`,
    );
  // A comma means several values were folded into one header.
  const m = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i.exec(header);
  if (!m?.[1]) {
    const scheme = /^\s*(\S+)/.exec(header)?.[1] ?? '';
    const what = /^bearer$/i.test(scheme) ? 'a malformed bearer token' : 'a scheme other than Bearer';
    throw new TokenValidationError('AGENTID_UNAUTHENTICATED', `The Authorization header carries ${what}`);
  }
  return m[1];
}

/**
 * The `Authorization` header of a Node request as {@link parseAuthorizationHeader} should see it.
 * Node keeps only the first of repeated `Authorization` headers in `req.headers`; this reads
 * `rawHeaders` too and returns every value when there are several, so that a request carrying two
 * (a smuggling or confusion attempt between a proxy and the app) is refused, not half-read.
 *
 * @example
 * ```ts
 * const token = parseAuthorizationHeader(authorizationHeaderOf(req)); // throws on duplicates
 * ```
 */
export function authorizationHeaderOf(req: {
  headers: { authorization?: string | undefined };
  rawHeaders?: readonly string[];
}): string | string[] | undefined {
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) return req.headers.authorization;
  let first = -1;
  let values: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // 'authorization'.length: most header names are ruled out without lower-casing them.
    if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
    if (first < 0) first = i + 1;
    else (values ??= [raw[first]!]).push(raw[i + 1]!);
  }
  return values ?? req.headers.authorization;
}
