import { ProvisioningError } from '@agentid/core';
import type { ProvisioningErrorCode } from '@agentid/core/broker';

interface Known {
  code: ProvisioningErrorCode;
  fix: string;
}

const PRINCIPAL: Known = {
  code: 'AGENTID_BLUEPRINT_PRINCIPAL_MISSING',
  fix: "create the blueprint's principal in this tenant first (provisioner.createBlueprintPrincipal(), or an admin: POST /v1.0/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal {appId}), then retry",
};
const MISMATCH: Known = {
  code: 'AGENTID_BLUEPRINT_MISMATCH',
  fix: "create agent identities with the blueprint's own app token and its own client id as agentIdentityBlueprintId (an agent identity cannot create agent identities)",
};
const CREDENTIALS: Known = {
  code: 'AGENTID_AGENT_CREDENTIALS_NOT_SUPPORTED',
  fix: 'an agent identity holds no credentials: add the certificate, secret or federated credential to its blueprint',
};
const quota = (what: string): Known => ({
  code: 'AGENTID_AGENT_QUOTA',
  fix: `soft-deleted ${what} count until purged: purge them (DELETE /directory/deletedItems/{id}; sweepEphemeralAgents for ephemeral agents) or delete unneeded ones`,
});

/** Graph's documented Agent ID error codes, each with our code and the fix. */
const KNOWN: Readonly<Record<string, Known>> = {
  AgentIdentity_AgentBlueprintPrincipalDoesNotExist: PRINCIPAL,
  Error_AgentBlueprintCannotCreateAssociatedIdentity: MISMATCH,
  Error_AgentIdentitySelfCreateRequired: MISMATCH,
  Error_AgentIdentitiesCreatingAgentIdentitiesNotAllowed: MISMATCH,
  AgentIdentity_CredentialsNotSupported: CREDENTIALS,
  PropertyNotCompatibleWithAgentIdentity: CREDENTIALS,
  AgentIdentity_LimitExceeded: quota('agent identities (at most 250 per blueprint for app-only callers)'),
  AgentBlueprint_LimitExceeded: quota('blueprints (at most 250 per tenant)'),
  Agent_Directory_QuotaExceeded: quota('blueprints and agent identities (95% of the tenant quota)'),
};

/** `400 Object with id '…' not found` right after a create: Graph has not replicated the new object yet. */
export const isReplicationMiss = (status: number, message: string): boolean =>
  status === 400 && /Object with id .{1,200} not found/i.test(message);

/** Graph's `{error:{code,message}}`, tolerant of anything else. */
export function graphErrorOf(body: Record<string, unknown>): { code: string | undefined; message: string } {
  const err = (body.error ?? {}) as { code?: unknown; message?: unknown };
  return {
    code: typeof err.code === 'string' ? err.code : undefined,
    message: typeof err.message === 'string' ? err.message : '',
  };
}

/** The typed error of a failed Graph call: a documented code gets its own code and the fix in the message. */
export function provisioningError(
  method: string,
  path: string,
  status: number,
  body: Record<string, unknown>,
): ProvisioningError {
  const { code: graphCode, message } = graphErrorOf(body);
  const where = `Graph ${method} ${path.split('?')[0]}`;
  const said = `${status} ${graphCode ?? `HTTP ${status}`}: ${message || 'no error message'}`;
  const known = graphCode !== undefined ? KNOWN[graphCode] : undefined;
  return new ProvisioningError(
    known?.code ?? 'AGENTID_GRAPH',
    known ? `${where} answered ${said} (fix: ${known.fix})` : `${where} answered ${said}`,
    { status, ...(graphCode !== undefined ? { error: graphCode } : {}) },
  );
}
