import type { Agent, Blueprint } from '@agentid/core';
import { createProvisioner } from './provisioner.js';

/**
 * Options of {@link withEphemeralAgent}.
 *
 * @example
 * ```ts
 * const options: EphemeralAgentOptions = { displayName: 'one-off research agent', sponsors: [sponsorId] };
 * ```
 */
export interface EphemeralAgentOptions {
  displayName: string;
  /** At least one sponsor (a user object id), as Entra requires. */
  sponsors: readonly string[];
  graphBaseUrl?: string;
  /** Called when the clean-up delete fails (the work's own outcome is still what is returned or thrown). */
  onCleanupError?: (error: unknown) => void;
}

/**
 * Creates an agent identity for one piece of work, runs it, and deletes the identity afterwards,
 * also when the work throws. A failed delete never hides the work's own error.
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
  work: (agent: Agent) => Promise<T>,
): Promise<T> {
  if (typeof work !== 'function') throw new TypeError('withEphemeralAgent: work must be a function');
  const provisioner = createProvisioner(
    blueprint,
    options.graphBaseUrl ? { graphBaseUrl: options.graphBaseUrl } : {},
  );
  const created = await provisioner.createAgentIdentity({
    displayName: options.displayName,
    sponsors: options.sponsors,
  });
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await work(blueprint.agent(created.id)) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  try {
    await provisioner.deleteAgentIdentity(created.id);
  } catch (cleanup) {
    options.onCleanupError?.(cleanup);
    // Only surface the clean-up failure when the work itself succeeded.
    if (outcome.ok) throw cleanup;
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
