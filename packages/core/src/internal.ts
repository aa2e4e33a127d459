/**
 * Everything the infrastructure modules export (errors, cache, policy, http, telemetry, token,
 * util), for index.ts to pick the public parts from and for other packages' tests.
 */
export * from './errors/codes.js';
export * from './errors/agent-id-error.js';
export * from './errors/aadsts.js';
export * from './errors/from-token-response.js';
export * from './errors/from-msal.js';

export * from './util/redact.js';
export * from './util/clock.js';
export * from './util/abort.js';
export * from './util/retry-after.js';
export * from './util/validate.js';

export * from './token/jwt.js';
export * from './token/claims.js';
export * from './token/access-token.js';

export * from './policy/lifetime-policy.js';

export * from './cache/key.js';
export * from './cache/memory-cache.js';
export * from './cache/memo.js';
export * from './cache/l2.js';
export * from './cache/single-flight.js';
export * from './cache/token-store.js';

export * from './http/client.js';
export * from './http/msal-network.js';

export * from './telemetry/attributes.js';
export * from './telemetry/logger.js';
export * from './telemetry/telemetry.js';
