import { randomBytes } from 'node:crypto';
import { isAgentIdError } from '@agentid/core';
import { describe, expect, it } from 'vitest';
import {
  appendActor,
  createDelegationCodec,
  formatChain,
  startDelegation,
  type DelegationContext,
  type Principal,
} from '../index.js';

const TID = '11111111-1111-4111-8111-111111111111';
const ORCH = 'aaaaaaaa-0000-4000-8000-000000000001';
const MAIL = 'aaaaaaaa-0000-4000-8000-000000000002';
const principal = (o: Partial<Principal> = {}): Principal =>
  Object.freeze({
    oid: 'uuuuuuuu-0000-4000-8000-000000000001',
    tid: TID,
    sub: 's',
    upn: 'alice@contoso.com',
    idtyp: 'user',
    azp: ORCH,
    scopes: Object.freeze(['access_agent']),
    roles: Object.freeze([]),
    actorFacets: Object.freeze([11]),
    subjectFacets: Object.freeze([]),
    audience: 'api://x',
    issuer: 'https://login/x/v2.0',
    expiresOn: new Date(Date.now() + 3600_000),
    claims: Object.freeze({}),
    ...o,
  }) as Principal;

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isAgentIdError(e) ? e.code : String(e);
  }
};

describe('delegation contexts', () => {
  it('give the same chain for the same principal and agent, and still refuse cycles and long chains every time', () => {
    const p = principal();
    const a = appendActor(startDelegation(p), MAIL);
    const b = appendActor(startDelegation(p), MAIL);
    expect(a.actors).toEqual([ORCH, MAIL]);
    expect(b).toEqual(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.actors) && Object.isFrozen(a.user)).toBe(true);
    expect(formatChain(a)).toBe(`${ORCH} > ${MAIL}`);
    expect(formatChain(startDelegation(p))).toBe(ORCH);
    expect(formatChain(startDelegation(principal({ actorFacets: Object.freeze([]) })))).toBe('');
    for (let i = 0; i < 2; i++) {
      expect(() => appendActor(startDelegation(p), ORCH.toUpperCase())).toThrow(
        expect.objectContaining({ code: 'AGENTID_DELEGATION_CYCLE' }),
      );
      expect(() => appendActor(a, 'aaaaaaaa-0000-4000-8000-000000000003', 2)).toThrow(
        expect.objectContaining({ code: 'AGENTID_HOP_LIMIT' }),
      );
    }
    // Another agent or another hop limit extends the same context anew.
    expect(appendActor(startDelegation(p), 'aaaaaaaa-0000-4000-8000-000000000004').actors).toEqual([
      ORCH,
      'aaaaaaaa-0000-4000-8000-000000000004',
    ]);
    expect(() => appendActor(startDelegation(p), MAIL, 1)).toThrow(
      expect.objectContaining({ code: 'AGENTID_HOP_LIMIT' }),
    );
  });

  it('follow a principal that is not frozen (nothing is remembered for it)', () => {
    const p = { ...principal(), azp: ORCH } as { -readonly [K in keyof Principal]: Principal[K] };
    expect(startDelegation(p).actors).toEqual([ORCH]);
    p.azp = MAIL;
    expect(startDelegation(p).actors).toEqual([MAIL]);
    const ctx: { -readonly [K in keyof DelegationContext]: DelegationContext[K] } = {
      user: { oid: 'u', tid: TID },
      actors: [ORCH],
      hops: 1,
    };
    expect(appendActor(ctx, MAIL).actors).toEqual([ORCH, MAIL]);
    ctx.actors = [MAIL];
    expect(() => appendActor(ctx, MAIL)).toThrow(
      expect.objectContaining({ code: 'AGENTID_DELEGATION_CYCLE' }),
    );
  });
});

describe('delegation codec, repeated headers', () => {
  it('checks lifetime, bound token, user and sender on every use of a header, not only the first', async () => {
    let now = Date.now();
    const codec = createDelegationCodec({
      keys: [{ kid: 'k1', secret: randomBytes(32) }],
      clock: { now: () => now },
    });
    const p = principal();
    const header = await codec.encode(startDelegation(p), 'token-1');
    const first = await codec.decode(header, p, 'token-1');
    expect(first.actors).toEqual([ORCH]);
    expect(await codec.decode(header, p, 'token-1')).toEqual(first);
    expect(await codec.decode(Buffer.from(header).toString(), p, Buffer.from('token-1').toString())).toEqual(
      first,
    );
    // Each binding, refused on a repeated (already verified) header just as on a new one.
    expect(await codeOf(codec.decode(header, p, 'token-2'))).toBe('AGENTID_DELEGATION_INVALID');
    expect(
      await codeOf(
        codec.decode(header, principal({ oid: 'uuuuuuuu-0000-4000-8000-000000000002' }), 'token-1'),
      ),
    ).toBe('AGENTID_DELEGATION_INVALID');
    expect(
      await codeOf(
        codec.decode(header, principal({ tid: '22222222-2222-4222-8222-222222222222' }), 'token-1'),
      ),
    ).toBe('AGENTID_DELEGATION_INVALID');
    expect(await codeOf(codec.decode(header, principal({ azp: MAIL }), 'token-1'))).toBe(
      'AGENTID_DELEGATION_INVALID',
    );
    // The upn of the header wins over the principal's, as on a first decode.
    expect((await codec.decode(header, principal({ upn: 'other@contoso.com' }), 'token-1')).user.upn).toBe(
      'alice@contoso.com',
    );
    now += 3600_000 + 61_000;
    expect(await codeOf(codec.decode(header, p, 'token-1'))).toBe('AGENTID_DELEGATION_INVALID');
  });

  it('refuses a header that shares the signature of a verified one but not its payload', async () => {
    const codec = createDelegationCodec({ keys: [{ kid: 'k1', secret: randomBytes(32) }] });
    const p = principal();
    const header = await codec.encode(startDelegation(p), 'token-1');
    await codec.decode(header, p, 'token-1');
    const [h, payload, sig] = header.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const act = { sub: MAIL, sub_profile: 'agent_identity', tid: TID };
    const edited = `${h}.${Buffer.from(JSON.stringify({ ...claims, act })).toString('base64url')}.${sig}`;
    // The same last 32 characters: the index of remembered headers.
    expect(edited.slice(-32)).toBe(header.slice(-32));
    expect(await codeOf(codec.decode(edited, p, 'token-1'))).toBe('AGENTID_DELEGATION_INVALID');
    expect((await codec.decode(header, p, 'token-1')).actors).toEqual([ORCH]);
  });

  it('gives a missing header the chain implied by the token', async () => {
    const codec = createDelegationCodec({ keys: [{ kid: 'k1', secret: randomBytes(32) }] });
    expect((await codec.decode(undefined, principal(), 'token-1')).actors).toEqual([ORCH]);
    expect((await codec.decode([], principal({ actorFacets: Object.freeze([]) }), 'token-1')).actors).toEqual(
      [],
    );
  });
});
