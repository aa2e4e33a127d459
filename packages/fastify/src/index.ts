/**
 * @agentid/fastify: Fastify 5 plugin for Microsoft Entra Agent ID: authenticate calls, tool-scoped agent tokens.
 * @packageDocumentation
 */
export {};
