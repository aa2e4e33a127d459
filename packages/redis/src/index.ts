/**
 * @agentid/redis: a distributed L2 token cache on Redis for @agentid/core: encrypted entries,
 * hashed key names, distributed single-flight with fenced leases, and a circuit breaker.
 * @packageDocumentation
 */
export { createRedisL2 } from './redis-l2.js';
export type {
  RedisCommandClient,
  RedisL2,
  RedisL2Event,
  RedisL2Operation,
  RedisL2Options,
  RedisL2Stats,
} from './redis-l2.js';
export { createKeyring, keyNamer } from './keyring.js';
export type { DecryptFailure, EncryptionKeys, Keyring, Opened } from './keyring.js';
export { createCircuitBreaker } from './breaker.js';
export type { BreakerState, CircuitBreaker, CircuitBreakerOptions } from './breaker.js';
