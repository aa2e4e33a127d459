/**
 * @agentid/obo: Agent on-behalf-of for Microsoft Entra Agent ID: inbound token validation, OBO exchange, multi-hop delegation.
 * @packageDocumentation
 */
export {};
