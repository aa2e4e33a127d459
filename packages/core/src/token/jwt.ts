import { decodeJwt, decodeProtectedHeader } from 'jose';
import { InvalidTokenError } from '../errors/agent-id-error.js';

/**
 * The JWT claims this project reads (Entra v1/v2 access tokens and agent claims). Other claims
 * are kept as `unknown`.
 *
 * @example
 * ```ts
 * const claims: JwtClaims = decodeJwtClaims(token);
 * claims.xms_par_app_azp; // the blueprint's app id
 * ```
 */
export interface JwtClaims {
  aud?: string | string[];
  iss?: string;
  sub?: string;
  oid?: string;
  tid?: string;
  azp?: string;
  appid?: string;
  idtyp?: string;
  ver?: string;
  scp?: string;
  roles?: string[];
  iat?: number;
  nbf?: number;
  exp?: number;
  xms_par_app_azp?: string;
  xms_act_fct?: string | number | Array<string | number>;
  xms_sub_fct?: string | number | Array<string | number>;
  [claim: string]: unknown;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * Runs one of jose's decoders (`decodeJwt`, `decodeProtectedHeader`): they split, base64url-decode
 * and parse as a verifier would. Their failure becomes our typed error, phrased by what was
 * wrong, without its cause: jose keeps the JSON SyntaxError, which quotes the decoded text.
 */
function decodeSegment<T>(segment: string, which: string, decode: () => T): T {
  if (segment === '' || !SEGMENT.test(segment))
    throw new InvalidTokenError(`Not a JWT: the ${which} is not base64url`);
  try {
    return decode();
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    const what = /base64url/i.test(message)
      ? 'is not base64url'
      : /JSON/.test(message)
        ? 'is not JSON'
        : 'is not a JSON object (or not JSON)';
    throw new InvalidTokenError(`Not a JWT: the ${which} ${what}`);
  }
}

/**
 * Decodes a JWT's header without verifying anything.
 *
 * @example
 * ```ts
 * decodeJwtHeader(token).kid;
 * ```
 */
export function decodeJwtHeader(jwt: string): Record<string, unknown> {
  return decodeSegment(segmentsOf(jwt)[0], 'header', () => decodeProtectedHeader(jwt));
}

function segmentsOf(jwt: unknown): [string, string, string] {
  if (typeof jwt !== 'string' || jwt === '')
    throw new InvalidTokenError('Not a JWT: expected a non-empty string');
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new InvalidTokenError(`Not a JWT: expected 3 segments, got ${parts.length}`);
  return parts as [string, string, string];
}

/**
 * Decodes a JWT's claims **without verifying the signature** (for logging, cache metadata and
 * tokens this process just received from Entra over TLS; never for authorization decisions on
 * inbound tokens). Throws {@link InvalidTokenError} (`AGENTID_INVALID_TOKEN`) on anything that
 * is not a compact JWS whose header and payload are JSON objects; the message never contains
 * any part of the input.
 *
 * @example
 * ```ts
 * const { oid, tid, exp } = decodeJwtClaims(result.accessToken);
 * ```
 */
export function decodeJwtClaims(jwt: string): JwtClaims {
  const [header, payload, signature] = segmentsOf(jwt);
  decodeSegment(header, 'header', () => decodeProtectedHeader(jwt));
  if (!SEGMENT.test(signature)) throw new InvalidTokenError('Not a JWT: the signature is not base64url');
  return decodeSegment(payload, 'payload', () => decodeJwt(jwt)) as JwtClaims;
}
