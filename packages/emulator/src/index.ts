export { createEmulator } from './emulator.js';
export type { Emulator, EmulatorOptions, ListenResult, UserTokenOptions } from './emulator.js';
export type { Clock } from './context.js';
export { DEMO, defaultSeed, loadSeedFile } from './directory/seed.js';
export { CUSTOMERS, multiTenantSeed, type CustomerTenant } from './directory/customer-seed.js';
export {
  Directory,
  DirectoryError,
  MAX_AGENTS_PER_BLUEPRINT,
  MAX_INHERITABLE_RESOURCES,
} from './directory/directory.js';
export type * from './directory/types.js';
export type { GraphSettings } from './graph/replication.js';
export type { Group } from './directory/groups.js';
export { MAX_GROUP_SPONSORS, MAX_SPONSORS } from './directory/groups.js';
export { DELETED_RETENTION_MS } from './directory/deleted-items.js';
export { createCertificate, thumbprints } from './crypto/certs.js';
export type { GeneratedCertificate, CertificateOptions } from './crypto/certs.js';
export type { FaultSpec, RouteName } from './http/faults.js';
export type { CounterSnapshot, RequestRecord } from './http/counters.js';
export type { EmuRequest, EmuResponse } from './http/types.js';
export type { EmulatorNetworkModule } from './http/fetch.js';
export type { GrantKind } from './oauth/grants.js';
export { EXCHANGE_AUDIENCE, GRAPH_APP_ID, GRAPH_RESOURCE, DEFAULT_BLOCKED_ROLES } from './ids.js';
export { EMULATOR_USAGE, isUsageError, startEmulatorFromArgs } from './cli.js';
export type {
  AgentRiskLevel,
  ConditionalAccess,
  ConditionalAccessPolicy,
  PolicyRequest,
} from './policy/conditional-access.js';
