import { isAgentIdError } from '@agentid/core';
import { type ErrorResponse, toErrorResponse } from '@agentid/tools';

const quote = (s: string): string => s.replace(/["\\]/g, '').slice(0, 200);

/**
 * The answer to a refused request, with the RFC 9728 / RFC 6750 challenge MCP clients read:
 * 401 `Bearer resource_metadata="…", scope="…"` (with `error="invalid_token"` when a token was
 * presented), 403 `error="insufficient_scope", scope="<the tool's scopes>"` for a step-up.
 * @internal
 */
export function challengeResponse(
  error: unknown,
  metadataUrl: string,
  scope: string | undefined,
  stepUp = false,
): ErrorResponse {
  const base = toErrorResponse(error);
  if (base.status !== 401 && !stepUp) return base;
  const noToken = isAgentIdError(error, 'AGENTID_UNAUTHENTICATED') && base.body.message.startsWith('No ');
  const parts = [`resource_metadata="${metadataUrl}"`];
  if (scope) parts.push(`scope="${quote(scope)}"`);
  if (stepUp) parts.unshift('error="insufficient_scope"');
  else if (!noToken)
    parts.unshift(`error="invalid_token"`, `error_description="${quote(base.body.message)}"`);
  return Object.freeze({
    status: stepUp ? 403 : 401,
    headers: Object.freeze({ 'www-authenticate': `Bearer ${parts.join(', ')}` }),
    body: stepUp
      ? Object.freeze({ error: 'insufficient_scope', code: 'AGENTID_FORBIDDEN', message: base.body.message })
      : base.body,
  });
}
