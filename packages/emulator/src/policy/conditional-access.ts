import { randomUUID } from 'node:crypto';
import type { Clock } from '../context.js';
import type { AgentIdentity, Resource, Tenant } from '../directory/directory.js';
import { OAuthFailure } from '../oauth/errors.js';

/**
 * An agent's risk, as Entra ID Protection rates it (`agentIdRiskLevels` of a policy).
 *
 * @example
 * ```ts
 * emu.conditionalAccess.setAgentRisk(DEMO.agents.mail, 'high' satisfies AgentRiskLevel);
 * ```
 */
export type AgentRiskLevel = 'low' | 'medium' | 'high';

/**
 * A Conditional Access policy for agents (a simplified `conditionalAccessPolicy`). It applies
 * to a request when one of its targets matches (`agents`, `blueprints`, `agentUsers`, `users`),
 * the resource matches (`resources`, default all), and its conditions hold (`window`,
 * `agentRiskLevels`). `block` answers AADSTS53003; `mfa` (on-behalf-of only: the policy is the
 * user's) answers a claims challenge unless the user's token carries `amr` `mfa`.
 *
 * @example
 * ```ts
 * emu.conditionalAccess.add({ agents: [DEMO.agents.mail], resources: ['api://tools'], control: 'block' });
 * ```
 */
export interface ConditionalAccessPolicy {
  /** Generated when absent. */
  id?: string;
  displayName?: string;
  /** Agent identity ids (`includeAgentIdServicePrincipals`), or `'All'`. */
  agents?: readonly string[] | 'All';
  /** Blueprint app ids: a policy on a blueprint covers its agent identities. */
  blueprints?: readonly string[];
  /** Agent user object ids (user_fic), or `'All'` (`AllAgentIdUsers`). */
  agentUsers?: readonly string[] | 'All';
  /** Human users of on-behalf-of requests (object ids), or `'All'`. */
  users?: readonly string[] | 'All';
  /** Target resources by app id or identifier URI; absent means all resources. */
  resources?: readonly string[];
  /** Only while the emulator's clock is in this window (epoch ms or ISO dates). */
  window?: { from?: number | string; until?: number | string };
  /** Only for agents at one of these risk levels (`agentIdRiskLevels`). */
  agentRiskLevels?: readonly AgentRiskLevel[];
  /** The grant control: `block` (AADSTS53003), or `mfa` (a claims challenge, on-behalf-of only). */
  control: 'block' | 'mfa';
}

/**
 * What a token request looks like to Conditional Access (the token endpoint builds it).
 *
 * @example
 * ```ts
 * ctx.conditionalAccess.evaluate({ grant: 'leg2', tenant, agent, resource });
 * ```
 */
export interface PolicyRequest {
  /** Where Entra evaluates: leg 2 for a resource, agent on-behalf-of, user_fic. */
  grant: 'leg2' | 'obo' | 'user_fic';
  tenant: Tenant;
  /** The agent identity asking. */
  agent: AgentIdentity;
  /** The resource the token is for (never the token-exchange audience). */
  resource: Resource;
  /** The user of an OBO (human) or user_fic (agent user) request. */
  user?: { oid: string; agentUser: boolean };
  /** `amr` of the user's token (OBO): `mfa` satisfies an MFA policy. */
  amr?: readonly string[];
}

/**
 * The emulator's Conditional Access engine: policies and agent risk, changed at run time
 * (programmatically, or through `/_emulator/conditional-access`).
 *
 * @example
 * ```ts
 * const id = emu.conditionalAccess.add({ blueprints: [W.appId], control: 'block' });
 * emu.conditionalAccess.remove(id);
 * ```
 */
export interface ConditionalAccess {
  /** Adds (or replaces, by id) a policy; returns its id. Throws `TypeError` for a bad policy. */
  add(policy: ConditionalAccessPolicy): string;
  /** Removes a policy; `false` if there was none with that id. */
  remove(id: string): boolean;
  /** Removes every policy (agent risk levels stay). */
  clear(): void;
  /** The policies in force, each with its id. */
  list(): ConditionalAccessPolicy[];
  /** Sets an agent's risk level (`undefined`: no risk). */
  setAgentRisk(agentId: string, level: AgentRiskLevel | undefined): void;
  /** An agent's risk level, if one was set. */
  agentRisk(agentId: string): AgentRiskLevel | undefined;
  /** Throws the answer Entra would give (an `OAuthFailure`) when a policy applies. */
  evaluate(request: PolicyRequest): void;
}

const LEVELS: readonly AgentRiskLevel[] = ['low', 'medium', 'high'];
const CONTROLS = ['block', 'mfa'];

const list = (v: unknown, name: string, all: boolean): void => {
  if (v === undefined || (all && v === 'All')) return;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== ''))
    throw new TypeError(`policy.${name} must be an array of ids${all ? " or 'All'" : ''}`);
};
const time = (v: unknown, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new TypeError(`policy.window.${name} must be epoch ms or an ISO date`);
  return t;
};

function validate(
  p: ConditionalAccessPolicy,
): Required<Pick<ConditionalAccessPolicy, 'id'>> & ConditionalAccessPolicy {
  if (!p || typeof p !== 'object') throw new TypeError('a policy must be an object');
  if (!CONTROLS.includes(p.control)) throw new TypeError("policy.control must be 'block' or 'mfa'");
  list(p.agents, 'agents', true);
  list(p.blueprints, 'blueprints', false);
  list(p.agentUsers, 'agentUsers', true);
  list(p.users, 'users', true);
  list(p.resources, 'resources', false);
  if (!p.agents && !p.blueprints && !p.agentUsers && !p.users)
    throw new TypeError('a policy needs a target: agents, blueprints, agentUsers or users');
  if (
    p.agentRiskLevels !== undefined &&
    !(Array.isArray(p.agentRiskLevels) && p.agentRiskLevels.every((l) => LEVELS.includes(l)))
  )
    throw new TypeError("policy.agentRiskLevels must list 'low', 'medium' or 'high'");
  if (p.window !== undefined) {
    if (typeof p.window !== 'object' || p.window === null)
      throw new TypeError('policy.window must be an object');
    time(p.window.from, 'from');
    time(p.window.until, 'until');
  }
  if (p.id !== undefined && (typeof p.id !== 'string' || p.id === ''))
    throw new TypeError('policy.id must be a string');
  return { ...p, id: p.id ?? randomUUID() };
}

const has = (v: readonly string[] | 'All' | undefined, id: string): boolean =>
  v === 'All' || (v !== undefined && v.includes(id));

function applies(
  p: ConditionalAccessPolicy,
  r: PolicyRequest,
  now: number,
  risk: AgentRiskLevel | undefined,
): boolean {
  const target =
    has(p.agents, r.agent.id) ||
    (p.blueprints?.includes(r.agent.blueprintAppId) ?? false) ||
    (r.user?.agentUser === true && has(p.agentUsers, r.user.oid)) ||
    (r.user?.agentUser === false && has(p.users, r.user.oid));
  if (!target) return false;
  const res = r.resource;
  if (
    p.resources &&
    !p.resources.some(
      (x) =>
        x.toLowerCase() === res.appId.toLowerCase() || x.toLowerCase() === res.identifierUri?.toLowerCase(),
    )
  )
    return false;
  const from = time(p.window?.from, 'from');
  const until = time(p.window?.until, 'until');
  if ((from !== undefined && now < from) || (until !== undefined && now >= until)) return false;
  if (p.agentRiskLevels && (risk === undefined || !p.agentRiskLevels.includes(risk))) return false;
  return true;
}

/**
 * Creates the engine, evaluated on the emulator's clock.
 *
 * @example
 * ```ts
 * const ca = createConditionalAccess(clock);
 * ```
 */
export function createConditionalAccess(clock: Clock): ConditionalAccess {
  const policies = new Map<string, ConditionalAccessPolicy>();
  const risks = new Map<string, AgentRiskLevel>();
  return {
    add(policy) {
      const p = validate(policy);
      policies.set(p.id, Object.freeze({ ...p }));
      return p.id;
    },
    remove: (id) => policies.delete(id),
    clear: () => policies.clear(),
    list: () => [...policies.values()],
    setAgentRisk(agentId, level) {
      if (level !== undefined && !LEVELS.includes(level))
        throw new TypeError("risk must be 'low', 'medium' or 'high'");
      if (level === undefined) risks.delete(agentId);
      else risks.set(agentId, level);
    },
    agentRisk: (agentId) => risks.get(agentId),
    evaluate(r) {
      if (policies.size === 0) return;
      const now = clock.now();
      const risk = risks.get(r.agent.id);
      const matched = [...policies.values()].filter((p) => applies(p, r, now, risk));
      const block = matched.find((p) => p.control === 'block');
      const what = `'${r.resource.identifierUri ?? r.resource.appId}'`;
      if (block)
        throw new OAuthFailure(
          400,
          'interaction_required',
          53003,
          `Access has been blocked by Conditional Access policies. The access policy does not allow token issuance (policy '${block.displayName ?? block.id}', agent '${r.agent.id}', resource ${what}).`,
          'message_only',
        );
      // MFA is the user's to give: only an on-behalf-of request can carry it.
      const mfa = matched.filter((p) => p.control === 'mfa');
      if (r.grant === 'obo' && mfa.length > 0 && !r.amr?.includes('mfa'))
        throw new OAuthFailure(
          400,
          'interaction_required',
          50076,
          `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access ${what}.`,
          'basic_action',
          JSON.stringify({ access_token: { capolids: { essential: true, values: mfa.map((p) => p.id) } } }),
        );
    },
  };
}
