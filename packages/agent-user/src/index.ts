/**
 * @agentid/agent-user: agents acting as their agent users (the three-leg `user_fic` flow), and
 * Graph provisioning of agent identities and agent users, including ephemeral agents.
 * @packageDocumentation
 */
export {
  agentUser,
  agentUserTokenCredential,
  type AgentUserHandle,
  type AgentUserRef,
} from './user/agent-user.js';
export { createProvisioner } from './provision/provisioner.js';
export type {
  AgentIdentityInfo,
  AgentUserInfo,
  CreateAgentIdentityRequest,
  CreateAgentUserRequest,
  Provisioner,
  ProvisionerOptions,
} from './provision/types.js';
export type { GraphOptions } from './provision/graph-client.js';
export { MAX_GROUP_SPONSORS, MAX_SPONSORS, type SponsorRef } from './provision/sponsors.js';
export {
  createEphemeralAgent,
  EPHEMERAL_CREATED_TAG,
  EPHEMERAL_TAG,
  withEphemeralAgent,
  type EphemeralAgent,
  type EphemeralAgentOptions,
} from './provision/ephemeral.js';
export { sweepEphemeralAgents, type SweepOptions, type SweepReport } from './provision/sweep.js';
