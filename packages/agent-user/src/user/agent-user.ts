import {
  type AccessToken,
  type Agent,
  type AgentTokenCredential,
  ConfigurationError,
  decodeJwtClaims,
  type GetTokenOptions,
  isAgentIdError,
  OAuthError,
  ProvisioningError,
} from '@agentid/core';
import {
  ATTR,
  brokerOf,
  cacheTags,
  createTokenCredential,
  type Exchange,
  type TokenAcquisition,
} from '@agentid/core/broker';

/**
 * Which agent user: by UPN (`username` on the wire) or by object id (`user_id`). Exactly one.
 *
 * @example
 * ```ts
 * const ref: AgentUserRef = { objectId: 'd1000000-0000-4000-8000-000000000001' };
 * ```
 */
export type AgentUserRef =
  { readonly upn: string; readonly objectId?: never } | { readonly objectId: string; readonly upn?: never };

/**
 * An agent acting as its agent user (the three-leg `user_fic` flow).
 *
 * @example
 * ```ts
 * const worker = agentUser(blueprint.agent(agentId), { upn: 'dw-helpdesk@contoso.com' });
 * const token = await worker.getToken(['https://graph.microsoft.com/Mail.Send']);
 * ```
 */
export interface AgentUserHandle {
  readonly agent: Agent;
  readonly ref: AgentUserRef;
  /** A delegated token of the agent user for `scopes`: T1 and T2 shared and cached, leg 3 cached per user and scopes. */
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<AccessToken>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AGENT_USER_FACET = 13;

/** Checks and normalises a reference. @internal */
export function checkRef(ref: AgentUserRef): { kind: 'upn' | 'objectId'; value: string } {
  if (!ref || typeof ref !== 'object')
    throw new ConfigurationError('agentUser: pass { upn } or { objectId }');
  const hasUpn = 'upn' in ref && ref.upn !== undefined;
  const hasId = 'objectId' in ref && ref.objectId !== undefined;
  if (hasUpn === hasId)
    throw new ConfigurationError('agentUser: pass exactly one of { upn } or { objectId }');
  if (hasId) {
    if (typeof ref.objectId !== 'string' || !GUID.test(ref.objectId))
      throw new ConfigurationError(
        "agentUser: objectId must be the agent user's object id (a GUID); pass a UPN as { upn }",
      );
    return { kind: 'objectId', value: ref.objectId.toLowerCase() };
  }
  if (typeof ref.upn !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(ref.upn))
    throw new ConfigurationError("agentUser: upn must be a user principal name such as 'worker@contoso.com'");
  return { kind: 'upn', value: ref.upn.toLowerCase() };
}

/** Better codes for what Entra answers about agent users; the original stays as `cause`. */
function refine(e: unknown, agentId: string): unknown {
  if (!isAgentIdError(e)) return e;
  if (e.aadsts === 50000)
    return new ProvisioningError(
      'AGENTID_AGENT_USER_NOT_LINKED',
      `The user is not an agent user of agent identity ${agentId} (an agent user's parent is fixed for life)`,
      {
        cause: e,
        status: e.status,
        error: e.error,
        aadsts: e.aadsts,
      },
    );
  return e;
}

/**
 * The agent user of an agent identity, by UPN or object id.
 *
 * @example
 * ```ts
 * const t = await agentUser(agent, { objectId: agentUserId }).getToken(['api://tools/Mail.Read']);
 * ```
 */
export function agentUser(agent: Agent, ref: AgentUserRef): AgentUserHandle {
  const { kind, value } = checkRef(ref);
  const broker = brokerOf(agent);
  const attributes = {
    [kind === 'upn' ? 'agentid.agent_user.upn' : 'agentid.agent_user.id']: value,
    // The semantic conventions' end user: the agent user's object id (a UPN is not an id).
    ...(kind === 'upn' ? {} : { [ATTR.ENDUSER_ID]: value }),
    [ATTR.OBO_USER_TENANT]: agent.tenantId,
  };
  const tags = [cacheTags.user(value)];

  /** Keeps only a token of this agent user, acted by this agent. */
  const verify = (issued: TokenAcquisition): void => {
    const subjectFacets = issued.meta.claims?.subjectFacets ?? [];
    const oid = issued.meta.subject?.toLowerCase();
    const raw = decodeJwtClaims(issued.token) as Record<string, unknown>;
    const upnClaim = raw.upn ?? raw.preferred_username;
    const upn = typeof upnClaim === 'string' ? upnClaim.toLowerCase() : undefined;
    const mismatch =
      issued.meta.actor?.toLowerCase() !== agent.id.toLowerCase() ||
      !subjectFacets.includes(AGENT_USER_FACET) ||
      (kind === 'objectId' ? oid !== value : upn !== undefined && upn !== value);
    if (mismatch)
      throw new OAuthError(
        'AGENTID_TOKEN_ENDPOINT',
        'The agent user token names another subject or actor than requested; it was discarded',
      );
  };

  const getToken = async (scopes: readonly string[], options: GetTokenOptions = {}): Promise<AccessToken> => {
    if (
      !Array.isArray(scopes) ||
      scopes.length === 0 ||
      scopes.some((s) => typeof s !== 'string' || s.trim() === '')
    ) {
      throw new ConfigurationError('agentUser.getToken: scopes must be a non-empty array of scope strings');
    }
    // Leg 3 (user_fic): T1 as the client assertion, T2 as the user federated credential.
    const exchange: Exchange = {
      withInstanceToken: true,
      send: ({ msal, clientAssertion, instanceToken, claims }) =>
        msal.acquireTokenByUserFederatedIdentityCredential({
          scopes: [...scopes],
          assertion: instanceToken as string,
          clientAssertion,
          ...(kind === 'upn' ? { username: value } : { userObjectId: value }),
          ...(claims ? { claims } : {}),
        }),
      verify,
    };
    return broker
      .acquire({ flow: 'agent-user', scopes, subject: value, tags, attributes }, exchange, options)
      .catch((e: unknown) => {
        throw refine(e, agent.id);
      });
  };

  return Object.freeze({
    agent,
    ref: Object.freeze({ ...ref }) as AgentUserRef,
    getToken,
    toString: () => `AgentUser(${value}, agent=${agent.id})`,
  });
}

/**
 * An Azure SDK `TokenCredential` for an agent user (the three-leg `user_fic` flow), from the cache.
 *
 * @example
 * ```ts
 * const credential = agentUserTokenCredential(agentUser(blueprint.agent(agentId), { objectId }));
 * const client = new ServiceBusClient(host, credential);
 * ```
 */
export function agentUserTokenCredential(handle: AgentUserHandle): AgentTokenCredential {
  return createTokenCredential((scopes, getOptions) => handle.getToken(scopes, getOptions), {
    tenantId: handle.agent.tenantId,
  });
}
