import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../errors/agent-id-error.js';
import { AccessToken, createAccessToken, isAccessToken } from './access-token.js';
import { FACETS, parseFacets, summarizeClaims } from './claims.js';
import { decodeJwtClaims, decodeJwtHeader } from './jwt.js';

const b64 = (o: unknown): string =>
  Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const jwt = (claims: object, header: object = { alg: 'RS256', typ: 'JWT', kid: 'k1' }): string =>
  `${b64(header)}.${b64(claims)}.c2ln`;
const SECRET = jwt({ sub: 'secret-subject', oid: 'o' });

describe('decodeJwtClaims', () => {
  it('decodes the payload and header without verification', () => {
    const token = jwt({ oid: 'o1', tid: 't1', exp: 2, xms_act_fct: '11' });
    expect(decodeJwtClaims(token)).toEqual({ oid: 'o1', tid: 't1', exp: 2, xms_act_fct: '11' });
    expect(decodeJwtHeader(token).kid).toBe('k1');
  });

  it('accepts an unsigned JWT (empty signature)', () => {
    expect(decodeJwtClaims(`${b64({ alg: 'none' })}.${b64({ a: 1 })}.`).a).toBe(1);
  });

  const garbage: Array<[string, unknown]> = [
    ['empty', ''],
    ['not a string', 42],
    ['two segments', 'a.b'],
    ['four segments', 'a.b.c.d'],
    ['bad base64url', 'eyJ!.eyJ.c'],
    ['payload not JSON', `${b64({ alg: 'x' })}.${b64('not json {')}.c`],
    ['payload an array', `${b64({ alg: 'x' })}.${b64([1])}.c`],
    ['payload null', `${b64({ alg: 'x' })}.${b64('null')}.c`],
    ['header not JSON', `${b64('nope')}.${b64({})}.c`],
    ['empty payload', `${b64({ alg: 'x' })}..c`],
    ['bad signature chars', `${b64({ alg: 'x' })}.${b64({})}.a+b`],
  ];
  it.each(garbage)('throws InvalidTokenError on %s', (_, input) => {
    let thrown: unknown;
    try {
      decodeJwtClaims(input as string);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvalidTokenError);
    expect((thrown as InvalidTokenError).code).toBe('AGENTID_INVALID_TOKEN');
    expect((thrown as Error).cause).toBeUndefined();
  });

  it('never puts the input in the error', () => {
    const bad = `${b64({ alg: 'x' })}.${b64('{"secret": "hunter2"')}.c`;
    const e = (() => {
      try {
        decodeJwtClaims(bad);
      } catch (err) {
        return err as Error;
      }
      throw new Error('no throw');
    })();
    expect(e.message).not.toContain('hunter2');
  });
});

describe('parseFacets / summarizeClaims', () => {
  it('parses facets as a set from strings, numbers and arrays', () => {
    expect(parseFacets('3 9 11')).toEqual([3, 9, 11]);
    expect(parseFacets('11 11 13')).toEqual([11, 13]);
    expect(parseFacets(11)).toEqual([11]);
    expect(parseFacets([13, '11', 'x', -1, 1.5, '12 14'])).toEqual([11, 12, 13, 14]);
    expect(parseFacets(undefined)).toEqual([]);
    expect(parseFacets({})).toEqual([]);
  });

  it('summarises an autonomous agent token', () => {
    const s = summarizeClaims({
      idtyp: 'app',
      oid: 'agent',
      azp: 'agent',
      tid: 't',
      aud: 'https://graph.microsoft.com',
      roles: ['User.Read.All'],
      xms_act_fct: '11',
      xms_sub_fct: 11,
      xms_par_app_azp: 'bp',
      iat: 1,
      exp: 2,
    });
    expect(s).toEqual({
      idtyp: 'app',
      oid: 'agent',
      azp: 'agent',
      tid: 't',
      aud: 'https://graph.microsoft.com',
      scp: [],
      roles: ['User.Read.All'],
      actorFacets: [FACETS.AGENT_IDENTITY],
      subjectFacets: [FACETS.AGENT_IDENTITY],
      parentAppId: 'bp',
      iat: 1,
      exp: 2,
    });
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.scp)).toBe(true);
  });

  it('summarises an agent user token, v1 appid fallback, multi-audience, and tolerates junk', () => {
    const s = summarizeClaims({
      idtyp: 'user',
      oid: 'au',
      appid: 'agent',
      aud: ['a', 1, 'b'],
      scp: 'User.Read  Mail.Send',
      roles: 'notarray',
      xms_act_fct: '3 9 11',
      xms_sub_fct: ['13'],
      iat: 'x',
    });
    expect(s.azp).toBe('agent');
    expect(s.aud).toEqual(['a', 'b']);
    expect(s.scp).toEqual(['User.Read', 'Mail.Send']);
    expect(s.roles).toEqual([]);
    expect(s.actorFacets).toEqual([3, 9, 11]);
    expect(s.subjectFacets).toEqual([FACETS.AGENT_USER]);
    expect(s.iat).toBeUndefined();
    expect('parentAppId' in s).toBe(false);
  });

  it('gives equal lists of different tokens as one frozen list (cached tokens share them)', () => {
    const a = summarizeClaims({ scp: 'Mail.Read', xms_act_fct: '11', roles: [] });
    const b = summarizeClaims({ scp: 'Mail.Read', xms_act_fct: 11 });
    expect(b.scp).toBe(a.scp);
    expect(b.actorFacets).toBe(a.actorFacets);
    expect(b.roles).toBe(a.roles);
    expect(b.roles).toBe(b.subjectFacets);
    expect(Object.isFrozen(a.scp) && Object.isFrozen(a.roles)).toBe(true);
    // Same joined text, different lists: never confused.
    expect(summarizeClaims({ roles: ['11'], xms_act_fct: '11' }).roles).toEqual(['11']);
    expect(summarizeClaims({ roles: ['11'], xms_act_fct: '11' }).actorFacets).toEqual([11]);
  });
});

describe('AccessToken', () => {
  const init = {
    token: SECRET,
    expiresOn: Date.UTC(2026, 0, 1, 1),
    refreshOn: new Date(Date.UTC(2026, 0, 1, 0, 30)),
    scopes: ['https://graph.microsoft.com/.default'],
    subject: 'agent-oid',
    actor: 'agent-azp',
    tenantId: 'tenant',
    claims: summarizeClaims({ oid: 'agent-oid', scp: 'a b' }),
  };

  it('exposes its fields and the token through a getter', () => {
    const t = createAccessToken(init);
    expect(t.token).toBe(SECRET);
    expect(t.tokenType).toBe('Bearer');
    expect(t.expiresOn.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(t.refreshOn.toISOString()).toBe('2026-01-01T00:30:00.000Z');
    expect(t.expiresOnTimestamp).toBe(Date.UTC(2026, 0, 1, 1));
    expect(t.refreshAfterTimestamp).toBe(Date.UTC(2026, 0, 1, 0, 30));
    expect(t.scopes).toEqual(init.scopes);
    expect([t.subject, t.actor, t.tenantId]).toEqual(['agent-oid', 'agent-azp', 'tenant']);
    expect(t.claims?.scp).toEqual(['a', 'b']);
    expect(isAccessToken(t)).toBe(true);
    expect(isAccessToken({ token: 'x' })).toBe(false);
    expect(t).toBeInstanceOf(AccessToken);
  });

  it('never shows the token in toString, JSON, inspect, keys or spread', () => {
    const t = createAccessToken(init);
    expect(String(t)).toBe(
      'AccessToken(subject=agent-oid, actor=agent-azp, expiresOn=2026-01-01T01:00:00.000Z)',
    );
    expect(`${t}`).not.toContain('eyJ');
    expect(JSON.stringify(t)).not.toContain('eyJ');
    expect(JSON.parse(JSON.stringify(t))).toMatchObject({
      subject: 'agent-oid',
      expiresOn: '2026-01-01T01:00:00.000Z',
    });
    expect(inspect(t, { showHidden: true, depth: 10 })).not.toContain('eyJ');
    expect(inspect({ nested: [t] }, { depth: 10 })).not.toContain('eyJ');
    expect(Object.keys(t)).not.toContain('token');
    expect(JSON.stringify({ ...t })).not.toContain('eyJ');
    expect(Object.getOwnPropertyNames(t)).not.toContain('token');
    expect(
      Object.entries(Object.getOwnPropertyDescriptors(t)).some(([, d]) => String(d.value).includes('eyJ')),
    ).toBe(false);
  });

  it('is immutable, dates and arrays included', () => {
    const t = createAccessToken(init);
    expect(Object.isFrozen(t)).toBe(true);
    expect(() => {
      (t as unknown as { subject: string }).subject = 'x';
    }).toThrow(TypeError);
    expect(() => t.expiresOn.setTime(0)).toThrow(TypeError);
    expect(() => t.refreshOn.setFullYear(1999)).toThrow(TypeError);
    expect(() => (t.scopes as string[]).push('x')).toThrow(TypeError);
    expect(t.expiresOn).toBeInstanceOf(Date);
  });

  it('freezes a copy of a plain claims summary (as read back from L2)', () => {
    const plain = JSON.parse(JSON.stringify(init.claims)) as typeof init.claims;
    const t = createAccessToken({ ...init, claims: plain });
    expect(Object.isFrozen(t.claims)).toBe(true);
    expect(Object.isFrozen(t.claims?.scp)).toBe(true);
    expect(Object.isFrozen(plain)).toBe(false);
  });

  it('defaults refreshOn to expiresOn, clamps it, and knows expiry', () => {
    const t = createAccessToken({ token: 'x', expiresOn: 1000, scopes: [] });
    expect(t.refreshOn.getTime()).toBe(1000);
    expect(
      createAccessToken({ token: 'x', expiresOn: 1000, refreshOn: 5000, scopes: [] }).refreshOn.getTime(),
    ).toBe(1000);
    expect(t.isExpired(999)).toBe(false);
    expect(t.isExpired(1000)).toBe(true);
  });

  it('rejects bad input with TypeError', () => {
    expect(() => createAccessToken({ ...init, token: '' })).toThrow(/token must be a non-empty string/);
    expect(() => createAccessToken({ ...init, expiresOn: new Date('nope') })).toThrow(/expiresOn/);
    expect(() => createAccessToken({ ...init, refreshOn: NaN })).toThrow(/refreshOn/);
    expect(() => createAccessToken({ ...init, scopes: [1] as unknown as string[] })).toThrow(/scopes/);
  });
});
