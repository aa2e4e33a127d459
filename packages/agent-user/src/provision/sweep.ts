import { type Blueprint, ConfigurationError } from '@agentid/core';
import { servicesOf } from '@agentid/core/broker';
import { EPHEMERAL_CREATED_TAG, EPHEMERAL_TAG, removeAgentForGood } from './ephemeral.js';
import type { GraphOptions } from './graph-client.js';
import { createProvisioner } from './provisioner.js';
import type { AgentIdentityInfo } from './types.js';

/**
 * Options of {@link sweepEphemeralAgents}.
 *
 * @example
 * ```ts
 * const options: SweepOptions = { olderThanMs: 6 * 3600_000, dryRun: true };
 * ```
 */
export interface SweepOptions extends GraphOptions {
  /** Only active ephemeral agents created longer ago than this are removed (keep it above your longest task). */
  olderThanMs: number;
  /** Report what would be removed, remove nothing. Default false. */
  dryRun?: boolean;
}

/**
 * What a sweep removed (or, in a dry run, would remove).
 *
 * @example
 * ```ts
 * const { agentIdentities, failures } = await sweepEphemeralAgents(blueprint, { olderThanMs: 3600_000 });
 * ```
 */
export interface SweepReport {
  /** Active ephemeral agent identities older than `olderThanMs`: agent user, identity, deleted item removed. */
  readonly agentIdentities: readonly string[];
  /** Soft-deleted ephemeral agent identities purged (a crash between delete and purge). */
  readonly purged: readonly string[];
  /** Agent users removed with them (Entra leaves them behind). */
  readonly agentUsers: readonly string[];
  /** Those that could not be removed, with why; a later sweep tries again. */
  readonly failures: readonly { readonly id: string; readonly error: unknown }[];
}

const createdAt = (a: AgentIdentityInfo): number | undefined => {
  const tag = a.tags.find((t) => t.startsWith(EPHEMERAL_CREATED_TAG));
  const at = tag === undefined ? NaN : Date.parse(tag.slice(EPHEMERAL_CREATED_TAG.length));
  return Number.isFinite(at) ? at : undefined;
};

/**
 * Finds and removes the ephemeral agents a crash left behind (tagged `agentid:ephemeral` at
 * creation): active ones older than `olderThanMs` are removed for good (agent user deleted and
 * purged, identity deleted and purged), soft-deleted ones are purged with their orphaned agent
 * users. Safe to run concurrently (with another sweeper or a `dispose`): what is already gone is
 * skipped. Time comes from the blueprint's clock.
 *
 * @example
 * ```ts
 * const report = await sweepEphemeralAgents(blueprint, { olderThanMs: 6 * 3600_000 });
 * log.info('swept', { removed: report.agentIdentities.length, purged: report.purged.length });
 * ```
 */
export async function sweepEphemeralAgents(
  blueprint: Blueprint,
  options: SweepOptions,
): Promise<SweepReport> {
  if (options === null || typeof options !== 'object')
    throw new ConfigurationError('sweepEphemeralAgents: options must be an object');
  const { olderThanMs, dryRun = false } = options;
  if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0)
    throw new ConfigurationError(
      'sweepEphemeralAgents: options.olderThanMs must be a number of milliseconds ≥ 0',
    );
  if (typeof dryRun !== 'boolean')
    throw new ConfigurationError('sweepEphemeralAgents: options.dryRun must be a boolean');
  const p = createProvisioner(blueprint, options);
  const cutoff = servicesOf(blueprint).clock.now() - olderThanMs;
  const report = {
    agentIdentities: [] as string[],
    purged: [] as string[],
    agentUsers: [] as string[],
    failures: [] as { id: string; error: unknown }[],
  };

  const sweep = async (a: AgentIdentityInfo, deleted: boolean): Promise<void> => {
    try {
      const user = await p.findAgentUser(a.id);
      if (user) report.agentUsers.push(user.id);
      (deleted ? report.purged : report.agentIdentities).push(a.id);
      if (!dryRun) await removeAgentForGood(p, a.id, user?.id, { deleted });
    } catch (error) {
      report.failures.push({ id: a.id, error });
    }
  };

  const active = await p.listAgentIdentities({ tag: EPHEMERAL_TAG });
  for (const a of active) {
    const at = createdAt(a);
    if (at !== undefined && at <= cutoff) await sweep(a, false);
  }
  const deleted = await p.listDeletedAgentIdentities();
  for (const a of deleted) if (a.tags.includes(EPHEMERAL_TAG)) await sweep(a, true);
  return Object.freeze(report);
}
