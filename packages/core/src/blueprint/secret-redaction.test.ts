import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeFetch, type FakeCall } from '@agentid/test-support/fake-fetch';
import { createTestTracing } from '@agentid/test-support/otel';
import { type BlueprintCredential, createBlueprint, isAgentIdError, secretCredential } from '../index.js';

// An Entra-shaped client secret, with the characters that encode differently in a form, a URL and JSON.
const SECRET = 'Qx8Q~k2.Fz_9"pL/a+b cdEfgH';
const VARIANTS = [
  SECRET,
  encodeURIComponent(SECRET),
  new URLSearchParams({ v: SECRET }).toString().slice(2),
  JSON.stringify(SECRET).slice(1, -1),
  'k2.Fz_9',
];
const TENANT = '11111111-1111-4111-8111-111111111111';
const BLUEPRINT = 'b1111111-1111-4111-8111-111111111111';
const AGENT = 'a1111111-1111-4111-8111-111111111111';
const tracing = createTestTracing();
afterEach(() => tracing.reset());
afterAll(() => tracing.close());

// A token endpoint that echoes what it was sent, as Entra's error descriptions sometimes do.
const echo = (status: number, secret: string) => (call: FakeCall) => ({
  status,
  body: {
    error: status >= 500 ? 'temporarily_unavailable' : 'invalid_client',
    error_description: `AADSTS7000215: Invalid client secret provided: '${secret}' (sent as ${encodeURIComponent(secret)}; ${JSON.stringify({ secret })}). Request: ${call.body} Trace ID: 0000`,
    error_codes: [status >= 500 ? 90033 : 7000215],
    trace_id: 't',
    correlation_id: 'c',
  },
});

// Everything an error carries, as a log line, a debugger or an error reporter would render it.
function everything(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: Infinity, showHidden: true }), JSON.stringify(error)];
  for (
    let e: unknown = error, i = 0;
    e !== undefined && e !== null && i < 10;
    e = (e as { cause?: unknown }).cause, i++
  ) {
    parts.push(String(e), inspect(e, { depth: Infinity, showHidden: true }));
    for (const k of Object.getOwnPropertyNames(e)) parts.push(String((e as Record<string, unknown>)[k]));
  }
  for (const s of tracing.spans())
    parts.push(JSON.stringify({ status: s.status, attributes: s.attributes, events: s.events }));
  return parts.join('\n');
}

const blueprint = (
  fetch: typeof globalThis.fetch,
  credential: BlueprintCredential = secretCredential(SECRET, { silenceWarning: true }),
) =>
  createBlueprint({
    tenantId: TENANT,
    clientId: BLUEPRINT,
    credential,
    authorityHost: 'https://login.agentid.test',
    network: { fetch, retries: 0 },
    telemetry: { tracerProvider: tracing.provider },
  });

describe('a client secret echoed by the token endpoint never leaves in an error', () => {
  for (const status of [401, 400, 503]) {
    it(`HTTP ${status}: message, errorDescription, cause chain, util.inspect, toJSON and spans are clean`, async () => {
      const fake = createFakeFetch([echo(status, SECRET)]);
      const error = await blueprint(fake.fetch)
        .agent(AGENT)
        .getToken(['api://reports/.default'])
        .catch((e: unknown) => e);
      expect(isAgentIdError(error)).toBe(true);
      expect(fake.calls[0]!.form.get('client_secret')).toBe(SECRET);
      expect((error as { errorDescription?: string }).errorDescription).toContain(
        'AADSTS7000215: Invalid client secret provided',
      );
      const text = everything(error);
      for (const v of VARIANTS) expect(text).not.toContain(v);
      expect(text).toContain('[redacted]');
      expect(fake.pending()).toBe(0);
    });
  }

  it('an opaque (non-JWT) client assertion of a custom credential, echoed back, is removed too', async () => {
    const opaque = 'opaque-assertion-Zz9~value.0123456789';
    const fake = createFakeFetch([echo(401, opaque)]);
    const custom: BlueprintCredential = {
      kind: 'federated',
      resolve: () => ({ clientAssertion: async () => opaque }),
      toString: () => 'custom',
    };
    const error = await blueprint(fake.fetch, custom)
      .agent(AGENT)
      .getToken(['api://reports/.default'])
      .catch((e: unknown) => e);
    expect(isAgentIdError(error)).toBe(true);
    expect(fake.calls[0]!.form.get('client_assertion')).toBe(opaque);
    expect(everything(error)).not.toContain('Zz9~value.0123456789');
  });
});
