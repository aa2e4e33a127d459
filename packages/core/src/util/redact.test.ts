import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { containsSecret, createSecretRedactor, REDACTED, redact } from './redact.js';

const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'user', scp: 'User.Read' })}.c2lnbmF0dXJlX2J5dGVz`;

describe('redact', () => {
  it('removes JWTs wherever they appear', () => {
    expect(redact(`token ${JWT} end`)).toBe(`token ${REDACTED} end`);
    expect(redact(`a=${JWT}&b=${JWT}`)).not.toContain('eyJ');
    expect(redact(`${JWT}.`)).toBe(`${REDACTED}.`);
  });

  it('removes unsigned JWTs and five-segment JWEs', () => {
    const unsigned = `${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.`;
    expect(redact(`x ${unsigned} y`)).toBe(`x ${REDACTED} y`);
    const jwe = `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.abc.def.ghi.jkl`;
    expect(redact(jwe)).toBe(REDACTED);
  });

  it('removes PEM blocks, complete or truncated', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    expect(redact(`key: ${pem} done`)).toBe(`key: ${REDACTED} done`);
    expect(redact('x -----BEGIN CERTIFICATE-----\nMIIC')).toBe(`x ${REDACTED}`);
  });

  it('removes secret form values but keeps the rest of the form', () => {
    const form =
      'client_id=abc&client_secret=s3cr3t%2B&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=opaque&assertion=userjwt&scope=x';
    const out = redact(form);
    expect(out).toContain('client_id=abc');
    expect(out).toContain(`client_secret=${REDACTED}`);
    expect(out).toContain(`client_assertion=${REDACTED}`);
    expect(out).toContain(`&assertion=${REDACTED}`);
    expect(out).toContain('client_assertion_type=urn%3Aietf');
    expect(out).toContain('scope=x');
    expect(out).not.toMatch(/s3cr3t|opaque|userjwt/);
  });

  it('removes the refresh token of a refresh-token grant (an OBO session) and keeps its grant type', () => {
    const out = redact(
      'client_id=a1&grant_type=refresh_token&refresh_token=0.AXYZ-opaque_rt&scope=api%3A%2F%2Ftools',
    );
    expect(out).toBe(
      `client_id=a1&grant_type=refresh_token&refresh_token=${REDACTED}&scope=api%3A%2F%2Ftools`,
    );
  });

  it('removes secrets in JSON bodies and bearer headers', () => {
    expect(redact('{"access_token":"abc.def","expires_in":3600}')).toBe(
      `{"access_token":"${REDACTED}","expires_in":3600}`,
    );
    expect(redact('{"refresh_token" : "r\\"x"}')).toBe(`{"refresh_token":"${REDACTED}"}`);
    expect(redact('Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123')).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
  });

  it('keeps ordinary diagnostic text, including AADSTS descriptions and challenges', () => {
    const text =
      "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required. Trace ID: 0f3c Correlation ID: 9a1b Timestamp: 2026-01-01";
    expect(redact(text)).toBe(text);
    const challenge = 'Bearer error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="';
    expect(redact(challenge)).toBe(challenge);
  });

  it('tolerates non-strings', () => {
    expect(redact(42 as unknown as string)).toBe('42');
  });

  it('containsSecret detects tokens', () => {
    expect(containsSecret(JWT)).toBe(true);
    expect(containsSecret('00000000-0000-0000-0000-000000000000')).toBe(false);
  });
});

describe('redact (JWE with direct key agreement)', () => {
  it('removes a JWE whose encrypted-key segment is empty', () => {
    const jwe = `${b64({ alg: 'dir', enc: 'A256GCM' })}..aXY.Y3Q.dGFn`;
    expect(redact(`x ${jwe} y`)).toBe(`x ${REDACTED} y`);
  });
});

describe('createSecretRedactor', () => {
  const secret = 'Ab8Q~c.d_e"f/g+h i';
  const forms = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
  ];

  it('removes a registered secret raw, URL- and form-encoded and JSON-escaped, then redacts as usual', () => {
    const r = createSecretRedactor();
    r.add(secret);
    for (const f of forms) expect(r.redact(`bad secret ${f}!`)).toBe(`bad secret ${REDACTED}!`);
    expect(r.redact(`x ${JWT}`)).toBe(`x ${REDACTED}`);
    expect(r.redact('nothing here')).toBe('nothing here');
  });

  it('ignores values too short to be secrets (they would eat words), and keeps only the last few transient ones', () => {
    const r = createSecretRedactor();
    r.add('short');
    expect(r.redact('a short word')).toBe('a short word');
    for (let i = 0; i < 6; i++) r.addTransient(`opaque-assertion-${i}`);
    expect(r.redact('opaque-assertion-0 opaque-assertion-5')).toBe(`opaque-assertion-0 ${REDACTED}`);
  });

  it('scrubs an error in place: message, stack, own fields, the cause chain and AggregateError members, cycles included', () => {
    const r = createSecretRedactor();
    r.add(secret);
    const msal = Object.assign(
      new Error(`ServerError: invalid_client - Description: AADSTS7000215: got ${secret}`),
      { errorMessage: `got ${encodeURIComponent(secret)}`, body: new Uint8Array(16) },
    );
    const inner = new AggregateError([new Error(`member ${secret}`)], 'several');
    const outer = Object.assign(new Error(`failed: ${secret}`, { cause: msal }), {
      errorDescription: `desc ${secret}`,
      details: { nested: [`deep ${secret}`] },
    });
    (msal as { cause?: unknown }).cause = inner;
    (inner as { cause?: unknown }).cause = outer; // a cycle
    expect(r.scrub(outer)).toBe(outer);
    const text = inspect(outer, { depth: Infinity, showHidden: true });
    for (const f of forms) expect(text).not.toContain(f);
    expect(outer.message).toBe(`failed: ${REDACTED}`);
    expect(outer.stack).not.toContain(secret);
    expect(msal.errorMessage).toBe(`got ${REDACTED}`);
    expect(text).toContain('Uint8Array');
  });

  it('leaves values alone when nothing is registered', () => {
    const e = new Error('Ab8Q~c.d_e');
    expect(createSecretRedactor().scrub(e).message).toBe('Ab8Q~c.d_e');
    expect(createSecretRedactor().scrub(null)).toBe(null);
  });
});
