/**
 * Secret scrubbing for anything that may reach a log, a span or an error message.
 *
 * Token endpoints echo parts of requests in their error descriptions, and fetch/MSAL errors may
 * carry request bodies, so every human-readable string this package produces passes through
 * {@link redact} before it leaves the package.
 */

/**
 * What a redacted value is replaced with.
 *
 * @example
 * ```ts
 * expect(redact(jwt)).toBe(REDACTED);
 * ```
 */
export const REDACTED = '[redacted]';

// A JWS has three base64url segments and a JWE five; the header of either is a JSON object, so
// it always starts with `eyJ` (`{"`). The signature of an unsecured JWT and the key of a `dir`
// JWE are empty; the optional JWE tail needs content so a sentence's full stop survives.
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+){0,2}/g;
// Complete PEM blocks first, then a dangling BEGIN (truncated logs) through the end of the text.
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g;
const PEM_DANGLING = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*$/g;
// Form-encoded secrets. `\b` does not match between `_` and a letter, so `assertion=` does not
// eat `client_assertion_type=`, and `client_assertion_type` itself (a public URN) is kept.
const FORM_SECRET = /\b(client_secret|client_assertion|assertion|user_federated_identity_credential|refresh_token|access_token|id_token|password)=[^&\s"']*/gi;
// The same fields inside JSON bodies.
const JSON_SECRET = /"(client_secret|client_assertion|assertion|user_federated_identity_credential|refresh_token|access_token|id_token|password)"\s*:\s*"(?:[^"\\]|\\.)*"/gi;
// Opaque bearer tokens in Authorization headers. The length floor keeps challenge text such as
// `Bearer error="insufficient_claims"` readable.
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*/g;
// Every pattern above needs one of these substrings: text without any is returned as is, so ids,
// scopes and cache keys on the hot path cost one regex test instead of six replacements.
const MAYBE_SECRET = /eyJ|-----BEGIN|=|bearer|secret|assertion|credential|token|password/i;

/**
 * Replaces JWTs, PEM blocks, bearer tokens and secret form/JSON values with `[redacted]`.
 *
 * @example
 * ```ts
 * redact('client_secret=s3cr3t&scope=x'); // 'client_secret=[redacted]&scope=x'
 * redact('token eyJhbGciOi.eyJzdWIiOiJ4In0.sig'); // 'token [redacted]'
 * ```
 */
export function redact(text: string): string {
  if (typeof text !== 'string') return String(text);
  if (!MAYBE_SECRET.test(text)) return text;
  return text
    .replace(PEM_BLOCK, REDACTED)
    .replace(PEM_DANGLING, REDACTED)
    .replace(JWT, REDACTED)
    .replace(FORM_SECRET, `$1=${REDACTED}`)
    .replace(JSON_SECRET, `"$1":"${REDACTED}"`)
    .replace(BEARER, `Bearer ${REDACTED}`);
}

/**
 * True when `text` contains something {@link redact} would remove. Used to refuse raw tokens
 * where only identifiers or hashes belong (cache keys).
 *
 * @example
 * ```ts
 * containsSecret('eyJhbGciOi.eyJzdWIiOiJ4In0.sig'); // true
 * ```
 */
export function containsSecret(text: string): boolean {
  return redact(text) !== text;
}
