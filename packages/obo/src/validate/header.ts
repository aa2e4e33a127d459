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
  if (header === undefined || header === null || header === '') throw new TokenValidationError('AGENTID_UNAUTHENTICATED', 'No Authorization header: a bearer token is required');
  if (Array.isArray(header)) {
    if (header.length !== 1) throw new TokenValidationError('AGENTID_UNAUTHENTICATED', 'More than one Authorization header');
    return parseAuthorizationHeader(header[0]);
  }
  if (typeof header !== 'string') throw new TokenValidationError('AGENTID_UNAUTHENTICATED', 'The Authorization header is not a string');
  if (header.length > MAX_TOKEN_LENGTH + 16) throw new TokenValidationError('AGENTID_UNAUTHENTICATED', `The Authorization header is longer than ${MAX_TOKEN_LENGTH} characters`);
  // A comma means several values were folded into one header.
  const m = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i.exec(header);
  if (!m?.[1]) {
    const scheme = /^\s*(\S+)/.exec(header)?.[1] ?? '';
    const what = /^bearer$/i.test(scheme) ? 'a malformed bearer token' : 'a scheme other than Bearer';
    throw new TokenValidationError('AGENTID_UNAUTHENTICATED', `The Authorization header carries ${what}`);
  }
  return m[1];
}
