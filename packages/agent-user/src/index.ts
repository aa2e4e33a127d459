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
export {
  createProvisioner,
  type AgentIdentityInfo,
  type AgentUserInfo,
  type Provisioner,
  type ProvisionerOptions,
} from './provision/provisioner.js';
export { withEphemeralAgent, type EphemeralAgentOptions } from './provision/ephemeral.js';
