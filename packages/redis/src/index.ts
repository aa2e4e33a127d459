/**
 * @agentid/redis: Distributed L2 token cache on Redis for @agentid/core: encrypted entries, distributed single-flight.
 * @packageDocumentation
 */
export {};
