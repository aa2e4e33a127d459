/**
 * @agentid/agent-user: Agent user tokens (user_fic) and Graph provisioning for Microsoft Entra Agent ID.
 * @packageDocumentation
 */
export {};
