/**
 * @agentid/sidecar: A drop-in, fail-closed replacement for the Microsoft Entra SDK for AgentID sidecar, and an Azure SDK TokenCredential for agents.
 * @packageDocumentation
 */
export {};
