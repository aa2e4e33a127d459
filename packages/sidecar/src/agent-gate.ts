import { type Clock, isAgentIdError } from '@agentid/core';
import { type Problem, problem } from './problem.js';

/** AADSTS700016: the client (here: the agent identity in fmi_path or client_id) does not exist. */
const UNKNOWN_APPLICATION = 700016;

/**
 * Keeps a caller from making the sidecar spend a token request (and memory) on every random
 * `AgentIdentity` it sends: an optional allow-list, and a bounded, expiring memory of the agent
 * ids the token endpoint refused as unknown.
 */
export interface AgentGate {
  /** A problem for an agent id that must not cost a token request, or undefined. */
  check(agentId: string): Problem | undefined;
  /** Remembers `agentId` as unknown when `error` is the token endpoint's "no such application". */
  observe(agentId: string, error: unknown): void;
}

/** Creates the gate: `allowed` (lower-case ids; undefined: any), unknown ids kept `ttlMs` (0: not kept), at most `maxEntries`. */
export function createAgentGate(options: {
  allowed: readonly string[] | undefined;
  ttlMs: number;
  maxEntries: number;
  clock: Clock;
}): AgentGate {
  const allowed = options.allowed ? new Set(options.allowed.map((a) => a.toLowerCase())) : undefined;
  // Insertion-ordered: the first entries are the oldest, evicted first.
  const unknown = new Map<string, number>();
  return {
    check(agentId) {
      const id = agentId.toLowerCase();
      if (allowed !== undefined && !allowed.has(id)) {
        return problem(
          403,
          `The agent identity ${id} is not in AgentId:AllowedAgentIdentities.`,
          'AGENTID_FORBIDDEN',
        );
      }
      const until = unknown.get(id);
      if (until === undefined) return undefined;
      if (until <= options.clock.now()) {
        unknown.delete(id);
        return undefined;
      }
      return problem(
        401,
        `The agent identity ${id} was refused as unknown by the token endpoint (AADSTS${UNKNOWN_APPLICATION}); not asked again for ${Math.ceil((until - options.clock.now()) / 1000)} s.`,
        'AGENTID_NOT_FOUND',
      );
    },
    observe(agentId, error) {
      if (options.ttlMs <= 0 || !isAgentIdError(error, 'AGENTID_NOT_FOUND')) return;
      if (error.aadsts !== UNKNOWN_APPLICATION && !error.errorCodes?.includes(UNKNOWN_APPLICATION)) return;
      const id = agentId.toLowerCase();
      unknown.delete(id);
      unknown.set(id, options.clock.now() + options.ttlMs);
      while (unknown.size > options.maxEntries) unknown.delete(unknown.keys().next().value!);
    },
  };
}
