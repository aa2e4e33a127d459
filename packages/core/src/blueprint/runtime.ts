import type { ConfidentialClientApplication } from '@azure/msal-node';
import type { TokenStore } from '../cache/token-store.js';
import type { HttpClient } from '../http/client.js';
import type { MsalNetworkModule } from '../http/msal-network.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { Clock } from '../util/clock.js';

/** What a blueprint shares with its agents' requesters. Internal: packages see `BlueprintServices`. */
export interface BlueprintRuntime {
  readonly tenantId: string;
  readonly clientId: string;
  readonly authorityHost: string;
  readonly exchangeAudience: string;
  readonly store: TokenStore;
  readonly network: MsalNetworkModule;
  /** The retrying HTTP client (timeouts, Retry-After, spans) for other calls such as Graph. */
  readonly http: HttpClient;
  /** The `fetch` the blueprint was configured with (the global one by default). */
  readonly fetch: typeof fetch;
  readonly telemetry: Telemetry;
  readonly clock: Clock;
  /** The blueprint's own MSAL client (leg 1, app tokens). */
  readonly blueprintApp: ConfidentialClientApplication;
  /** A new MSAL client for an agent identity: its client assertion is the T1 of the request in flight. */
  newAgentApp(agentId: string): ConfidentialClientApplication;
}
