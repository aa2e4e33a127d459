import type { AccessToken, Blueprint } from '@agentid/core';
import type { CliIo } from '../io.js';

/** Prints what `agentid token` got (never the token), as text or JSON. @internal */
export function printSummary(
  io: CliIo,
  t: AccessToken,
  context: {
    scope: string;
    json: boolean;
    blueprintId: string;
    stats: ReturnType<Blueprint['stats']>;
    requests?: Record<string, number>;
  },
): void {
  const c = t.claims;
  const summary = {
    subject: t.subject,
    actor: t.actor,
    idtyp: c?.idtyp,
    scopes: t.scopes,
    roles: c?.roles ?? [],
    actorFacets: c?.actorFacets ?? [],
    subjectFacets: c?.subjectFacets ?? [],
    parentBlueprint: c?.parentAppId,
    expiresOn: t.expiresOn.toISOString(),
    refreshOn: t.refreshOn.toISOString(),
    cache: context.stats,
    ...(context.requests ? { tokenEndpointRequests: context.requests } : {}),
  };
  if (context.json) {
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  io.stdout(
    [
      `agent token for ${context.scope} (the token itself is not printed; --print-token prints it)`,
      `  subject   ${String(summary.subject)} (idtyp=${String(summary.idtyp)})`,
      `  actor     ${String(summary.actor)}`,
      `  roles     ${summary.roles.join(' ') || '-'}`,
      `  facets    actor ${summary.actorFacets.join(' ') || '-'}; subject ${summary.subjectFacets.join(' ') || '-'}`,
      `  blueprint ${String(summary.parentBlueprint ?? context.blueprintId)}`,
      `  expires   ${summary.expiresOn} (refresh from ${summary.refreshOn})`,
      `  cache     ${summary.cache.misses} miss(es), ${summary.cache.hits} hit(s)`,
      ...(summary.tokenEndpointRequests
        ? [`  requests  ${JSON.stringify(summary.tokenEndpointRequests)}`]
        : []),
    ].join('\n') + '\n',
  );
}
