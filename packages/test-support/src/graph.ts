import type { Emulator } from '@agentid/emulator';
import { expect } from 'vitest';
import { postToken } from './emulator-token.js';

/** A Graph answer of the emulator: status, parsed JSON body and raw text. */
export interface GraphAnswer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

/** One Graph call to the emulator in-process (a string body is sent as is). */
export async function graph(
  emu: Emulator,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<GraphAnswer> {
  const res = await emu.fetch(`${emu.baseUrl}${path}`, {
    method,
    headers: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  if (text) parsed = JSON.parse(text) as Record<string, unknown>;
  return { status: res.status, body: parsed, text };
}

/** Asserts Graph's error shape (`{error:{code,message,innerError:{date,request-id,client-request-id}}}`) and returns the code. */
export function graphError(r: GraphAnswer, status: number): string {
  expect(r.status).toBe(status);
  const err = r.body.error as Record<string, unknown> | undefined;
  expect(err, `expected a Graph error body, got ${r.text}`).toBeTypeOf('object');
  expect(err!.code).toBeTypeOf('string');
  expect(err!.message).toBeTypeOf('string');
  expect(String(err!.message).length).toBeGreaterThan(0);
  const inner = err!.innerError as Record<string, unknown>;
  expect(inner).toBeTypeOf('object');
  expect(inner['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(inner['client-request-id']).toBeTypeOf('string');
  expect(Number.isNaN(Date.parse(String(inner.date)))).toBe(false);
  return String(err!.code);
}

/** An app-only Graph token of a client with a secret (a blueprint or a plain app). */
export async function appToken(
  emu: Emulator,
  tenant: string,
  client: { appId: string; secret: string },
  scope = 'https://graph.microsoft.com/.default',
): Promise<string> {
  const r = await postToken(emu, tenant, {
    client_id: client.appId,
    client_secret: client.secret,
    grant_type: 'client_credentials',
    scope,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return String(r.body.access_token);
}
