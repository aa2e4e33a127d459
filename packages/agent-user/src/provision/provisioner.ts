import { type Blueprint, ConfigurationError, ProvisioningError } from '@agentid/core';
import { servicesOf } from '@agentid/core/broker';

/**
 * Options of {@link createProvisioner}.
 *
 * @example
 * ```ts
 * const options: ProvisionerOptions = { graphBaseUrl: emu.baseUrl };
 * ```
 */
export interface ProvisionerOptions {
  /** Default `https://graph.microsoft.com`; the emulator serves its Graph subset at `emu.baseUrl`. */
  graphBaseUrl?: string;
}

/**
 * An agent identity as Graph returns it.
 *
 * @example
 * ```ts
 * const { id } = await provisioner.createAgentIdentity({ displayName: 'Ticket triage', sponsors: [sponsorId] });
 * ```
 */
export interface AgentIdentityInfo {
  /** The agent identity's id (its client id for tokens: `blueprint.agent(id)`). */
  readonly id: string;
  readonly displayName: string;
}

/**
 * An agent user as Graph returns it.
 *
 * @example
 * ```ts
 * const { id, userPrincipalName } = await provisioner.createAgentUser({ agentIdentityId, userPrincipalName, displayName });
 * ```
 */
export interface AgentUserInfo {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly identityParentId: string;
}

/**
 * Graph calls a blueprint may make for its own agents, authorized by its own app token.
 *
 * @example
 * ```ts
 * const p = createProvisioner(blueprint);
 * const agent = await p.createAgentIdentity({ displayName: 'Ticket triage', sponsors: [sponsorId] });
 * await p.createAgentUser({ agentIdentityId: agent.id, userPrincipalName: 'triage@contoso.com', displayName: 'Triage' });
 * ```
 */
export interface Provisioner {
  /** Creates an agent identity under the blueprint, with sponsors. */
  createAgentIdentity(request: {
    displayName: string;
    sponsors: readonly string[];
    owners?: readonly string[];
  }): Promise<AgentIdentityInfo>;
  /** Deletes an agent identity (and its cached tokens). */
  deleteAgentIdentity(id: string): Promise<void>;
  /** One agent user per agent identity: a second one fails with `AGENTID_AGENT_USER_EXISTS`. */
  createAgentUser(request: {
    agentIdentityId: string;
    userPrincipalName: string;
    displayName: string;
    mailNickname?: string;
  }): Promise<AgentUserInfo>;
  /** Deletes an agent user. */
  deleteAgentUser(id: string): Promise<void>;
}

const GRAPH_SCOPE = ['https://graph.microsoft.com/.default'];
const SAFE_ID = /^[0-9A-Za-z@._-]{1,200}$/;

/**
 * Creates a {@link Provisioner} for a blueprint (Microsoft Graph beta endpoints of Agent ID).
 *
 * @example
 * ```ts
 * const provisioner = createProvisioner(blueprint, { graphBaseUrl: 'https://graph.microsoft.com' });
 * ```
 */
export function createProvisioner(blueprint: Blueprint, options: ProvisionerOptions = {}): Provisioner {
  const services = servicesOf(blueprint);
  const base = (options.graphBaseUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(base))
    throw new ConfigurationError(
      'createProvisioner: graphBaseUrl must be an origin such as https://graph.microsoft.com',
    );

  async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const token = await blueprint.getAppToken(GRAPH_SCOPE);
    const res = await services.http.request({
      url: `${base}${path}`,
      method,
      headers: {
        authorization: `Bearer ${token.token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    let parsed: Record<string, unknown> = {};
    if (res.body) {
      try {
        parsed = JSON.parse(res.body) as Record<string, unknown>;
      } catch {
        parsed = {};
      }
    }
    if (res.status >= 200 && res.status < 300) return parsed;
    const err = (parsed.error ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof err.code === 'string' ? err.code : `HTTP ${res.status}`;
    const message = typeof err.message === 'string' ? err.message : 'no error message';
    if (code === 'AgentUser_AlreadyExists')
      throw new ProvisioningError(
        'AGENTID_AGENT_USER_EXISTS',
        `Graph ${method} ${path.split('?')[0]}: ${message}`,
        { status: res.status, error: code },
      );
    throw new ProvisioningError(
      'AGENTID_GRAPH',
      `Graph ${method} ${path.split('?')[0]} answered ${res.status} ${code}: ${message}`,
      { status: res.status, error: code },
    );
  }

  const checkId = (name: string, id: unknown): string => {
    if (typeof id !== 'string' || !SAFE_ID.test(id))
      throw new ConfigurationError(`${name}: id must be a directory object id`);
    return encodeURIComponent(id);
  };
  const checkIds = (name: string, ids: unknown, min: number): string[] => {
    if (!Array.isArray(ids) || ids.length < min || ids.some((i) => typeof i !== 'string' || !SAFE_ID.test(i)))
      throw new ConfigurationError(`${name} must list ${min > 0 ? 'at least one' : ''} user object id(s)`);
    return ids as string[];
  };

  return Object.freeze({
    async createAgentIdentity(request: {
      displayName: string;
      sponsors: readonly string[];
      owners?: readonly string[];
    }) {
      if (!request || typeof request.displayName !== 'string' || request.displayName.trim() === '')
        throw new ConfigurationError('createAgentIdentity: displayName is required');
      const sponsors = checkIds('createAgentIdentity: sponsors', request.sponsors, 1);
      const owners = request.owners ? checkIds('createAgentIdentity: owners', request.owners, 0) : [];
      const r = await call('POST', '/beta/serviceprincipals/Microsoft.Graph.AgentIdentity', {
        displayName: request.displayName,
        agentIdentityBlueprintId: blueprint.clientId,
        'sponsors@odata.bind': sponsors.map((id) => `https://graph.microsoft.com/v1.0/users/${id}`),
        ...(owners.length
          ? { 'owners@odata.bind': owners.map((id) => `https://graph.microsoft.com/v1.0/users/${id}`) }
          : {}),
      });
      return Object.freeze({ id: String(r.appId ?? r.id), displayName: String(r.displayName) });
    },
    async deleteAgentIdentity(id: string) {
      await call('DELETE', `/beta/serviceprincipals/${checkId('deleteAgentIdentity', id)}`);
      await blueprint.invalidate({ agent: id });
    },
    async createAgentUser(request: {
      agentIdentityId: string;
      userPrincipalName: string;
      displayName: string;
      mailNickname?: string;
    }) {
      if (
        !request ||
        typeof request.userPrincipalName !== 'string' ||
        !/^[^@\s]+@[^@\s]+$/.test(request.userPrincipalName)
      )
        throw new ConfigurationError('createAgentUser: userPrincipalName must be a UPN');
      if (typeof request.displayName !== 'string' || request.displayName.trim() === '')
        throw new ConfigurationError('createAgentUser: displayName is required');
      checkId('createAgentUser: agentIdentityId', request.agentIdentityId);
      const r = await call('POST', '/beta/users', {
        '@odata.type': 'microsoft.graph.agentUser',
        displayName: request.displayName,
        userPrincipalName: request.userPrincipalName,
        mailNickname: request.mailNickname ?? request.userPrincipalName.split('@')[0],
        accountEnabled: true,
        identityParentId: request.agentIdentityId,
      });
      return Object.freeze({
        id: String(r.id),
        userPrincipalName: String(r.userPrincipalName),
        identityParentId: String(r.identityParentId),
      });
    },
    async deleteAgentUser(id: string) {
      await call('DELETE', `/beta/users/${checkId('deleteAgentUser', id)}`);
      await blueprint.invalidate({ user: id });
    },
  });
}
