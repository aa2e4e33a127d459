import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../verifier/verify-chain.mjs';
import {
  appendActor,
  auditChain,
  chainJwksHandler,
  createDelegationCodec,
  exportChainJwks,
  startDelegation,
  type Principal,
} from '../index.js';

const TID = '11111111-1111-4111-8111-111111111111';
const OTHER_TID = '22222222-2222-4222-8222-222222222222';
const USER = 'aaaaaaaa-0000-4000-8000-0000000000aa';
const ORCH = 'aaaaaaaa-0000-4000-8000-000000000001';
const GATEWAY = 'aaaaaaaa-0000-4000-8000-000000000002';
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** An access token's shape (its signature is the validator's business, not the chain's). */
const tokenFor = (claims: Record<string, unknown>) => `${b64({ alg: 'RS256' })}.${b64(claims)}.c2ln`;
const principal = (azp: string, o: Partial<Principal> = {}): Principal =>
  Object.freeze({
    oid: USER,
    tid: TID,
    sub: 's',
    idtyp: 'user',
    azp,
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

describe('the standalone verifier', () => {
  it('imports nothing but jose', async () => {
    const source = await readFile(new URL('../../verifier/verify-chain.mjs', import.meta.url), 'utf8');
    const specifiers = [
      ...source.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g),
    ].map((m) => m[1]);
    expect(specifiers).toEqual(['jose']);
    expect(source).not.toMatch(/['"](?:node:|@agentid)/);
  });
});

describe('the chain JWKS', () => {
  it('publishes the public half of asymmetric keys only, from a codec or its keys', async () => {
    const a = ec();
    const keys = [
      { kid: 'new', alg: 'ES256' as const, ...a },
      { kid: 'shared', secret: randomBytes(32) },
      // A private key passed as the public one still publishes only its public members.
      { kid: 'careless', alg: 'ES256' as const, publicKey: ec().privateKey },
    ];
    const jwks = exportChainJwks(createDelegationCodec({ keys }));
    expect(jwks.keys.map((k) => [k.kid, k.alg, k.use, k.kty])).toEqual([
      ['new', 'ES256', 'sig', 'EC'],
      ['careless', 'ES256', 'sig', 'EC'],
    ]);
    for (const k of jwks.keys)
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(exportChainJwks(keys)).toEqual(jwks);
    expect(() => exportChainJwks([{ kid: 's', secret: randomBytes(32) }])).toThrow(
      expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS' }),
    );
    expect(() => exportChainJwks({})).toThrow(expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS' }));
    expect(() => chainJwksHandler(keys, { maxAgeSec: -1 })).toThrow(/maxAgeSec/);
  });

  it('is served by chainJwksHandler on node:http (GET and HEAD only)', async () => {
    const keys = [{ kid: 'k', alg: 'ES256' as const, ...ec() }];
    const server = createServer(chainJwksHandler(keys, { maxAgeSec: 60 }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    try {
      const res = await fetch(url);
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
      expect(await res.json()).toEqual(exportChainJwks(keys));
      expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
      const post = await fetch(url, { method: 'POST' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('across tenants and trust domains', () => {
  it('keeps the tenant and blueprint of each actor', async () => {
    const codec = createDelegationCodec({ keys: [{ kid: 'k', alg: 'ES256', ...ec() }] });
    const ctx = appendActor(startDelegation(principal('chat-app', { actorFacets: Object.freeze([]) })), {
      id: ORCH.toUpperCase(),
      tenantId: OTHER_TID,
      blueprintId: 'BP-1',
    });
    const token = tokenFor({ oid: USER, tid: TID, azp: ORCH });
    const back = await codec.decode(await codec.encode(ctx, token), principal(ORCH), token);
    expect(back.chain).toEqual([
      { id: ORCH, tenantId: OTHER_TID, blueprintId: 'bp-1', type: 'agent_identity' },
    ]);
  });

  it('starts a new chain in another trust domain that references the old one (prev = its issuer and hash)', async () => {
    const domainA = createDelegationCodec({
      keys: [{ kid: 'a', alg: 'ES256', ...ec() }],
      issuer: 'urn:contoso',
    });
    const keysB = [{ kid: 'b', alg: 'ES256' as const, ...ec() }];
    const domainB = createDelegationCodec({ keys: keysB, issuer: 'urn:fabrikam' });
    // In A: the user's token reached the orchestrator; its OBO token for the gateway carries A's chain.
    const tokenA = tokenFor({ oid: USER, tid: TID, azp: ORCH });
    const headerA = await domainA.encode(
      appendActor(startDelegation(principal('chat-app', { actorFacets: Object.freeze([]) })), ORCH),
      tokenA,
    );
    const atGateway = appendActor(await domainA.decode(headerA, principal(ORCH), tokenA), GATEWAY);
    expect(atGateway.actors).toEqual([ORCH, GATEWAY]);
    // The gateway signs its hop into B with B's keys: a new chain, one actor, pointing back at A's.
    const tokenB = tokenFor({ oid: USER, tid: TID, azp: GATEWAY });
    const headerB = await domainB.encode(atGateway, tokenB);
    const prev = { iss: 'urn:contoso', hash: createHash('sha256').update(headerA).digest('base64url') };
    const inB = await domainB.decode(headerB, principal(GATEWAY), tokenB);
    expect([inB.actors, inB.prev]).toEqual([[GATEWAY], prev]);
    const verified = await verifyChain(headerB, tokenB, {
      jwks: exportChainJwks(keysB),
      issuer: 'urn:fabrikam',
    });
    expect([verified.chain, verified.prev]).toEqual([[GATEWAY], prev]);
    expect(auditChain(tokenB, headerB)).toMatchObject({
      'agentid.chain': [GATEWAY],
      'agentid.chain.prev': prev.hash,
      'agentid.chain.prev_iss': 'urn:contoso',
    });
    // Each domain reads only its own issuer's chains.
    await expect(domainB.decode(headerA, principal(ORCH), tokenA)).rejects.toMatchObject({
      code: 'AGENTID_DELEGATION_INVALID',
    });
    await expect(
      verifyChain(headerA, tokenA, { jwks: exportChainJwks(keysB), issuer: 'urn:fabrikam' }),
    ).rejects.toMatchObject({ code: 'AGENTID_DELEGATION_INVALID' });
    // A hop inside B carries B's chain on, prev included.
    const tokenB2 = tokenFor({ oid: USER, tid: TID, azp: ORCH });
    const next = await domainB.encode(appendActor(inB, ORCH), tokenB2);
    expect((await domainB.decode(next, principal(ORCH), tokenB2)).prev).toEqual(prev);
  });
});

describe('auditChain', () => {
  it('gives the chain a token implies without a header, and refuses a header bound to another token', async () => {
    const token = tokenFor({
      oid: USER,
      tid: TID,
      azp: ORCH,
      xms_act_fct: '11',
      xms_par_app_azp: 'BP',
      scp: 'x',
    });
    expect(auditChain(token)).toEqual({
      'agentid.chain': [ORCH],
      'agentid.chain.depth': 1,
      'agentid.chain.tenants': [TID],
      'agentid.chain.blueprints': ['bp'],
      'agentid.chain.subject': USER,
      'agentid.chain.subject_profile': 'user',
    });
    const codec = createDelegationCodec({ keys: [{ kid: 'k', secret: randomBytes(32) }] });
    const header = await codec.encode(startDelegation(principal(ORCH)), token);
    expect(auditChain(token, [header])['agentid.chain']).toEqual([ORCH]);
    expect(() => auditChain(tokenFor({ oid: USER, tid: TID, azp: ORCH }), header)).toThrow(
      expect.objectContaining({ code: 'AGENTID_DELEGATION_INVALID' }),
    );
    expect(() => auditChain(token, 'not-a-jws')).toThrow(
      expect.objectContaining({ code: 'AGENTID_DELEGATION_INVALID' }),
    );
  });

  it('validates the codec options up front', () => {
    const keys = [{ kid: 'k', secret: randomBytes(32) }];
    for (const bad of [{ require: 'always' }, { issuer: '' }, { maxHops: 0 }])
      expect(() => createDelegationCodec({ keys, ...(bad as object) })).toThrow(
        expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS' }),
      );
  });
});
