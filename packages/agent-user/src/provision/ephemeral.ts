import { type Agent, type Blueprint, ConfigurationError } from '@agentid/core';
import { servicesOf } from '@agentid/core/broker';
import type { GraphOptions } from './graph-client.js';
import { createProvisioner, isGone } from './provisioner.js';
import type { SponsorRef } from './sponsors.js';
import type { AgentIdentityInfo, AgentUserInfo, Provisioner } from './types.js';

/**
 * The tag every ephemeral agent identity carries, so that a sweeper can find those a crash left behind.
 *
 * @example
 * ```ts
 * const leftovers = await provisioner.listAgentIdentities({ tag: EPHEMERAL_TAG });
 * ```
 */
export const EPHEMERAL_TAG = 'agentid:ephemeral';
/**
 * Prefix of the tag holding an ephemeral agent's creation time (ISO 8601).
 *
 * @example
 * ```ts
 * const created = Date.parse(tag.slice(EPHEMERAL_CREATED_TAG.length));
 * ```
 */
export const EPHEMERAL_CREATED_TAG = 'agentid:ephemeral:created:';

/**
 * Options of {@link createEphemeralAgent} and {@link withEphemeralAgent}.
 *
 * @example
 * ```ts
 * const options: EphemeralAgentOptions = { displayName: 'one-off research agent', sponsors: [sponsorId] };
 * ```
 */
export interface EphemeralAgentOptions extends GraphOptions {
  displayName: string;
  /** 1 to 100 sponsors, users or groups (at most 5 groups), as Entra requires. */
  sponsors: readonly SponsorRef[];
  /** More `tags` (the ephemeral markers are added). */
  tags?: readonly string[];
  /** Also give it an agent user (deleted explicitly on dispose: Entra does not cascade). */
  agentUser?: { userPrincipalName: string; displayName?: string; mailNickname?: string };
  /** Called when a clean-up step fails (the work's own outcome is still what is returned or thrown). */
  onCleanupError?: (error: unknown) => void;
}

/**
 * An agent identity made for one piece of work; `dispose()` removes it for good.
 *
 * @example
 * ```ts
 * const eph = await createEphemeralAgent(blueprint, { displayName: 'one-off', sponsors: [sponsorId] });
 * try { await eph.agent.getToken(['api://reports/.default']); } finally { await eph.dispose(); }
 * ```
 */
export interface EphemeralAgent {
  readonly agent: Agent;
  readonly identity: AgentIdentityInfo;
  readonly agentUser?: AgentUserInfo;
  /**
   * Deletes the agent user (and purges it), deletes the agent identity and purges it from deleted
   * items, so that it does not count toward the 250 per blueprint. Idempotent; tolerates objects
   * another process already removed. Rejects with the first failure after trying every step.
   */
  dispose(): Promise<void>;
}

const tolerate = async (step: () => Promise<void>): Promise<void> => {
  try {
    await step();
  } catch (e) {
    if (!isGone(e)) throw e;
  }
};

/**
 * Removes an agent identity for good: its agent user (if any: delete and purge), then the
 * identity (delete and purge). Each step tolerates a 404; the first other failure is rethrown at the end.
 */
export async function removeAgentForGood(
  p: Provisioner,
  agentIdentityId: string,
  agentUserId: string | undefined,
  options: { deleted?: boolean } = {},
): Promise<void> {
  const failures: unknown[] = [];
  const step = async (fn: () => Promise<void>): Promise<boolean> => {
    try {
      await tolerate(fn);
      return true;
    } catch (e) {
      failures.push(e);
      return false;
    }
  };
  if (agentUserId !== undefined && (await step(() => p.deleteAgentUser(agentUserId))))
    await step(() => p.purgeDeletedItem(agentUserId));
  // A purge only follows a delete that happened (or had happened: 404).
  if (options.deleted || (await step(() => p.deleteAgentIdentity(agentIdentityId))))
    await step(() => p.purgeDeletedItem(agentIdentityId));
  if (failures.length > 0) throw failures[0];
}

/**
 * Creates an agent identity tagged as ephemeral (with its creation time), and optionally its
 * agent user. If the agent user cannot be made, the identity is removed again before the error is thrown.
 *
 * @example
 * ```ts
 * const eph = await createEphemeralAgent(blueprint, { displayName: 'report-2026-11-25', sponsors: [sponsorId], agentUser: { userPrincipalName: 'report@contoso.com' } });
 * await eph.dispose();
 * ```
 */
export async function createEphemeralAgent(
  blueprint: Blueprint,
  options: EphemeralAgentOptions,
): Promise<EphemeralAgent> {
  if (options === null || typeof options !== 'object')
    throw new ConfigurationError('createEphemeralAgent: options must be an object');
  if (options.onCleanupError !== undefined && typeof options.onCleanupError !== 'function')
    throw new ConfigurationError('createEphemeralAgent: options.onCleanupError must be a function');
  const p = createProvisioner(blueprint, options);
  const created = new Date(servicesOf(blueprint).clock.now()).toISOString();
  const identity = await p.createAgentIdentity({
    displayName: options.displayName,
    sponsors: options.sponsors,
    tags: [...(options.tags ?? []), EPHEMERAL_TAG, `${EPHEMERAL_CREATED_TAG}${created}`],
  });
  let agentUser: AgentUserInfo | undefined;
  if (options.agentUser) {
    try {
      agentUser = await p.createAgentUser({
        agentIdentityId: identity.id,
        userPrincipalName: options.agentUser.userPrincipalName,
        displayName: options.agentUser.displayName ?? options.displayName,
        ...(options.agentUser.mailNickname !== undefined
          ? { mailNickname: options.agentUser.mailNickname }
          : {}),
      });
    } catch (error) {
      await removeAgentForGood(p, identity.id, undefined).catch((e: unknown) => options.onCleanupError?.(e));
      throw error;
    }
  }
  let disposing: Promise<void> | undefined;
  return Object.freeze({
    agent: blueprint.agent(identity.id),
    identity,
    ...(agentUser ? { agentUser } : {}),
    dispose: () => (disposing ??= removeAgentForGood(p, identity.id, agentUser?.id)),
  });
}

/**
 * Creates an ephemeral agent for one piece of work, runs it, and removes the agent for good
 * afterwards (agent user deleted, identity deleted and purged), also when the work throws. A
 * failed clean-up never hides the work's own error; what a crash leaves behind,
 * {@link sweepEphemeralAgents} removes.
 *
 * @example
 * ```ts
 * const report = await withEphemeralAgent(blueprint, { displayName: 'report-2026-11-25', sponsors: [sponsorId] }, async (agent) => {
 *   const token = await agent.getToken(['api://reports/.default']);
 *   return generate(token);
 * });
 * ```
 */
export async function withEphemeralAgent<T>(
  blueprint: Blueprint,
  options: EphemeralAgentOptions,
  work: (agent: Agent, ephemeral: EphemeralAgent) => Promise<T>,
): Promise<T> {
  if (typeof work !== 'function') throw new TypeError('withEphemeralAgent: work must be a function');
  const eph = await createEphemeralAgent(blueprint, options);
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await work(eph.agent, eph) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  try {
    await eph.dispose();
  } catch (cleanup) {
    options.onCleanupError?.(cleanup);
    // Only surface the clean-up failure when the work itself succeeded.
    if (outcome.ok) throw cleanup;
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
