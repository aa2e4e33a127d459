/**
 * @agentid/express: Express 5 middleware for Microsoft Entra Agent ID: authenticate calls, tool-scoped agent tokens.
 * @packageDocumentation
 */
export {};
