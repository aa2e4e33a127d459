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
const FORM_SECRET =
  /\b(client_secret|client_assertion|assertion|user_federated_identity_credential|refresh_token|access_token|id_token|password)=[^&\s"']*/gi;
// The same fields inside JSON bodies.
const JSON_SECRET =
  /"(client_secret|client_assertion|assertion|user_federated_identity_credential|refresh_token|access_token|id_token|password)"\s*:\s*"(?:[^"\\]|\\.)*"/gi;
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

/**
 * Known secrets to remove from errors: values no pattern can recognise (a client secret is an
 * opaque string), registered by whoever holds them. {@link SecretRedactor.redact} removes them
 * (raw, URL- and form-encoded, JSON-escaped) and then applies {@link redact};
 * {@link SecretRedactor.scrub} cleans an error and its cause chain in place.
 *
 * @example
 * ```ts
 * const secrets = createSecretRedactor();
 * secrets.add(clientSecret);
 * throw secrets.scrub(error);
 * ```
 */
export interface SecretRedactor {
  /** Registers a secret for as long as the redactor lives (values shorter than 8 characters are ignored). */
  add(secret: string): void;
  /** Registers a short-lived value (an opaque client assertion); only the most recent few are kept. */
  addTransient(value: string): void;
  /** `text` without any known secret, then through {@link redact}. */
  redact(text: string): string;
  /**
   * Replaces known secrets in every string an error carries (message, stack, `errorDescription`
   * and any other own property), through its `cause` chain and `errors`, in place; returns it.
   */
  scrub<T>(error: T): T;
}

// Shorter values would eat ordinary words out of messages; Entra client secrets are 40 characters.
const MIN_SECRET_LENGTH = 8;
const MAX_TRANSIENT = 4;
// Enough for any real error (MSAL's, undici's and ours nest three or four deep), bounded for a cyclic or huge one.
const MAX_DEPTH = 6;
const MAX_NODES = 200;

function variantsOf(secret: string): string[] {
  const form = new URLSearchParams({ v: secret }).toString().slice(2);
  const json = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, encodeURIComponent(secret), form, json])];
}

/**
 * Creates a {@link SecretRedactor}: one per blueprint, told its client secret by `createBlueprint`.
 *
 * @example
 * ```ts
 * const secrets = createSecretRedactor();
 * secrets.add('s3cr3t~value.from.entra');
 * secrets.redact('Invalid client secret s3cr3t~value.from.entra'); // 'Invalid client secret [redacted]'
 * ```
 */
export function createSecretRedactor(): SecretRedactor {
  const permanent = new Set<string>();
  const transient: string[] = [];
  let variants: string[] = [];
  const rebuild = (): void => {
    // Longest first, so that an encoded form is replaced whole before a raw part of it.
    variants = [...new Set([...permanent, ...transient].flatMap(variantsOf))].sort(
      (a, b) => b.length - a.length,
    );
  };
  const known = (text: string): string => {
    let out = text;
    for (const v of variants) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  };

  function scrubNode(node: object, depth: number, seen: Set<object>): void {
    if (seen.has(node) || seen.size >= MAX_NODES || depth > MAX_DEPTH) return;
    seen.add(node);
    // Binary data has one property per byte and no text.
    if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) return;
    // Own properties, enumerable or not: `message` and `stack` are not enumerable.
    for (const key of Object.getOwnPropertyNames(node)) {
      try {
        const d = Object.getOwnPropertyDescriptor(node, key);
        if (d === undefined) continue;
        // Some engines make `stack` an accessor: read it, and replace it with the clean text.
        const accessorStack = key === 'stack' && !('value' in d) && d.configurable === true;
        if (!('value' in d) && !accessorStack) continue;
        const value: unknown = accessorStack ? Reflect.get(node, key) : d.value;
        if (typeof value === 'string') {
          const clean = known(value);
          if (clean === value) continue;
          if (accessorStack)
            Object.defineProperty(node, key, {
              value: clean,
              writable: true,
              enumerable: d.enumerable ?? false,
              configurable: true,
            });
          else if (d.writable || d.configurable) Object.defineProperty(node, key, { ...d, value: clean });
        } else if (value !== null && typeof value === 'object') {
          scrubNode(value, depth + 1, seen);
        }
      } catch {
        // A frozen or exotic object (a proxy): leave that property (ours never are).
      }
    }
  }

  return {
    add(secret) {
      if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || permanent.has(secret)) return;
      permanent.add(secret);
      rebuild();
    },
    addTransient(value) {
      if (
        typeof value !== 'string' ||
        value.length < MIN_SECRET_LENGTH ||
        transient.includes(value) ||
        permanent.has(value)
      )
        return;
      transient.push(value);
      if (transient.length > MAX_TRANSIENT) transient.shift();
      rebuild();
    },
    redact(text) {
      return redact(variants.length > 0 && typeof text === 'string' ? known(text) : text);
    },
    scrub(error) {
      if (variants.length > 0 && error !== null && typeof error === 'object') scrubNode(error, 0, new Set());
      return error;
    },
  };
}
