// Forged and bad user tokens, shared by the security tests of @agentid/obo, the middleware and the
// sidecar: each case names the attack, the token, and the error code it must be refused with.
import { generateKeyPairSync } from 'node:crypto';
import { DEMO, type Emulator } from '@agentid/emulator';
import { exportJWK, importJWK, SignJWT } from 'jose';

export type BadTokenCase = readonly [name: string, token: string, code: string];

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * Every bad-token case for a service whose tokens are issued for `audienceAppId` with `scope`
 * (a good token: `emu.issueUserToken` for that scope).
 */
export async function badTokenCases(
  emu: Emulator,
  audienceAppId: string,
  scope = `api://${audienceAppId}/access_agent`,
): Promise<BadTokenCase[]> {
  const userToken = (extra: Record<string, unknown> = {}, o: { lifetimeSec?: number } = {}) =>
    emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [scope],
      extraClaims: extra,
      ...(o.lifetimeSec ? { lifetimeSec: o.lifetimeSec } : {}),
    });
  const now = Math.floor(Date.now() / 1000);
  const good = await userToken();
  const [h, pl, sig] = good.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  const jwks = (await (await emu.fetch(`${emu.baseUrl}/${DEMO.tenantId}/discovery/v2.0/keys`)).json()) as {
    keys: Record<string, unknown>[];
  };
  // HS256 signed with the public key's bytes as the secret (the classic key-confusion attack).
  const hsKey = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
  const claims = JSON.parse(Buffer.from(pl, 'base64url').toString()) as Record<string, unknown>;
  const hs = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: String(header.kid) })
    .sign(hsKey);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreignKey = await importJWK(await exportJWK(privateKey), 'RS256');
  const unknownKid = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'not-a-known-kid' })
    .sign(foreignKey);
  const forgedKnownKid = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: String(header.kid) })
    .sign(foreignKey);
  const cases: Array<[string, string | Promise<string>, string]> = [
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${pl}.`, 'AGENTID_TOKEN_ALGORITHM'],
    ['HS256 with the public key as secret', hs, 'AGENTID_TOKEN_ALGORITHM'],
    ['unknown kid', unknownKid, 'AGENTID_TOKEN_SIGNATURE'],
    ['forged signature with a known kid', forgedKnownKid, 'AGENTID_TOKEN_SIGNATURE'],
    [
      'tampered payload',
      `${h}.${b64({ ...claims, oid: DEMO.users.bob.id })}.${sig}`,
      'AGENTID_TOKEN_SIGNATURE',
    ],
    [
      'signature of another token',
      `${h}.${pl}.${(await userToken({ oid: DEMO.users.bob.id })).split('.')[2]}`,
      'AGENTID_TOKEN_SIGNATURE',
    ],
    ['wrong issuer', userToken({ iss: 'https://evil.example/issuer/v2.0' }), 'AGENTID_TOKEN_ISSUER'],
    [
      'issuer of another tenant',
      userToken({ iss: `${emu.baseUrl}/00000000-0000-4000-8000-000000000bad/v2.0` }),
      'AGENTID_TOKEN_ISSUER',
    ],
    [
      'tenant not allowed',
      userToken({ tid: '00000000-0000-4000-8000-000000000bad' }),
      'AGENTID_TOKEN_TENANT',
    ],
    ['wrong audience', userToken({ aud: '00000000-0000-4000-8000-0000000000aa' }), 'AGENTID_TOKEN_AUDIENCE'],
    ['expired', userToken({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), 'AGENTID_TOKEN_EXPIRED'],
    ['not yet valid', userToken({ nbf: now + 3600, exp: now + 7200 }), 'AGENTID_TOKEN_NOT_YET_VALID'],
    ['too long-lived', userToken({}, { lifetimeSec: 3 * 86_400 }), 'AGENTID_TOKEN_TOO_LONG_LIVED'],
    ['missing oid', userToken({ oid: undefined }), 'AGENTID_TOKEN_CLAIMS'],
    ['missing tid', userToken({ tid: undefined }), 'AGENTID_TOKEN_CLAIMS'],
    ['missing exp', userToken({ exp: undefined }), 'AGENTID_TOKEN_CLAIMS'],
    ['missing scope', userToken({ scp: 'something_else' }), 'AGENTID_INSUFFICIENT_SCOPE'],
    [
      'app-only token where a scope is required',
      userToken({ scp: undefined, idtyp: 'app' }),
      'AGENTID_INSUFFICIENT_SCOPE',
    ],
    ['garbage', 'not-a-token-at-all', 'AGENTID_TOKEN_MALFORMED'],
    [
      'truncated',
      good
        .slice(0, good.length - 20)
        .split('.')
        .slice(0, 2)
        .join('.'),
      'AGENTID_TOKEN_MALFORMED',
    ],
    ['bad base64 JSON', `${h}.bm90IGpzb24.${sig}`, 'AGENTID_TOKEN_MALFORMED'],
    ['oversized', `${h}.${'A'.repeat(20_000)}.sig`, 'AGENTID_TOKEN_MALFORMED'],
  ];
  return Promise.all(cases.map(async ([n, t, c]) => [n, await t, c] as const));
}
