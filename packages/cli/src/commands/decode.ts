import { type Clock, decodeJwtClaims, isAgentIdError } from '@agentid/core';
import { parseFacets } from '@agentid/core/broker';
import { parseArgs } from 'node:util';
import { type CliIo, UsageError } from '../io.js';

export const DECODE_USAGE = `usage: agentid decode <jwt | -> [--json]

Explains an access token's claims WITHOUT verifying its signature: who it is about (subject), who
acts (actor), agent facets, permissions and lifetime. '-' reads the token from standard input.`;

const FACET_NAMES: Record<number, string> = { 11: 'agent identity', 13: 'agent user' };
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** What `agentid decode` reports about a token (no signature, no token). @internal */
export function explainClaims(c: Record<string, unknown>, nowSec: number): Record<string, unknown> {
  const act = parseFacets(c.xms_act_fct);
  const sub = parseFacets(c.xms_sub_fct);
  const idtyp = str(c.idtyp) ?? (c.scp ? 'user' : 'app');
  const subjectKind = sub.includes(13)
    ? 'agent user'
    : idtyp === 'app'
      ? act.includes(11) || sub.includes(11)
        ? 'agent identity (acting as itself)'
        : 'application'
      : 'user';
  const exp = typeof c.exp === 'number' ? c.exp : undefined;
  const iat = typeof c.iat === 'number' ? c.iat : undefined;
  const lifetimeSec = exp !== undefined && iat !== undefined ? exp - iat : undefined;
  return {
    verified: false,
    tokenType: idtyp,
    subject: {
      id: str(c.oid) ?? str(c.sub),
      kind: subjectKind,
      ...((str(c.upn) ?? str(c.preferred_username)) ? { upn: str(c.upn) ?? str(c.preferred_username) } : {}),
    },
    actor: { id: str(c.azp) ?? str(c.appid), kind: act.includes(11) ? 'agent identity' : 'application' },
    ...(str(c.xms_par_app_azp) ? { parentBlueprint: str(c.xms_par_app_azp) } : {}),
    actorFacets: act.map((f) => FACET_NAMES[f] ?? `${f} (unknown, ignored)`),
    subjectFacets: sub.map((f) => FACET_NAMES[f] ?? `${f} (unknown, ignored)`),
    audience: c.aud,
    issuer: c.iss,
    tenant: c.tid,
    scopes: typeof c.scp === 'string' ? c.scp.split(' ') : [],
    roles: Array.isArray(c.roles) ? c.roles : [],
    issuedAt: iat !== undefined ? new Date(iat * 1000).toISOString() : undefined,
    notBefore: typeof c.nbf === 'number' ? new Date(c.nbf * 1000).toISOString() : undefined,
    expiresAt: exp !== undefined ? new Date(exp * 1000).toISOString() : undefined,
    lifetimeSec,
    remainingSec: exp !== undefined ? exp - nowSec : undefined,
    warnings: [
      ...(lifetimeSec !== undefined && lifetimeSec > 3600
        ? [`lives ${Math.round(lifetimeSec / 60)} min: longer than 1 h`]
        : []),
      ...(exp !== undefined && exp < nowSec ? ['expired'] : []),
    ],
  };
}

/** `agentid decode`. @internal */
export async function decodeCommand(argv: string[], io: CliIo, clock: Clock): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout(`${DECODE_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('decode takes exactly one token (or - for standard input)');
  const raw = (positionals[0] === '-' ? await io.readStdin() : positionals[0]!)
    .trim()
    .replace(/^Bearer\s+/i, '');
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwtClaims(raw) as Record<string, unknown>;
  } catch (e) {
    io.stderr(`agentid decode: not a JWT (${isAgentIdError(e) ? e.message : 'cannot decode'})\n`);
    return 2;
  }
  const x = explainClaims(claims, Math.floor(clock.now() / 1000));
  if (values.json) {
    io.stdout(`${JSON.stringify(x, null, 2)}\n`);
    return 0;
  }
  const s = x.subject as { id?: string; kind: string; upn?: string };
  const a = x.actor as { id?: string; kind: string };
  const lines = [
    'Decoded WITHOUT signature verification.',
    `  type       ${String(x.tokenType)} token`,
    `  subject    ${s.id ?? '-'} (${s.kind}${s.upn ? `, ${s.upn}` : ''})`,
    `  actor      ${a.id ?? '-'} (${a.kind})`,
    ...(x.parentBlueprint ? [`  blueprint  ${String(x.parentBlueprint)} (parent of the acting agent)`] : []),
    `  facets     actor: ${(x.actorFacets as string[]).join(', ') || '-'}; subject: ${(x.subjectFacets as string[]).join(', ') || '-'}`,
    `  audience   ${String(x.audience)}`,
    `  issuer     ${String(x.issuer)}`,
    `  tenant     ${String(x.tenant)}`,
    `  scopes     ${(x.scopes as string[]).join(' ') || '-'}`,
    `  roles      ${(x.roles as string[]).join(' ') || '-'}`,
    `  issued     ${String(x.issuedAt)}; expires ${String(x.expiresAt)} (lifetime ${String(x.lifetimeSec)} s, ${String(x.remainingSec)} s left)`,
    ...(x.warnings as string[]).map((w) => `  WARNING    ${w}`),
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
