import type { ConfidentialClientApplication } from '@azure/msal-node';
import type { TokenStore } from '../cache/token-store.js';
import type { HttpClient } from '../http/client.js';
import type { MsalNetworkModule } from '../http/msal-network.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { Clock } from '../util/clock.js';

/** What a blueprint shares with its agents (internal). */
export interface BlueprintRuntime {
  tenantId: string;
  clientId: string;
  authorityHost: string;
  exchangeAudience: string;
  store: TokenStore;
  network: MsalNetworkModule;
  /** The retrying HTTP client (timeouts, Retry-After, spans) for other calls such as Graph. */
  http: HttpClient;
  /** The `fetch` the blueprint was configured with (the global one by default). */
  fetch: typeof fetch;
  telemetry: Telemetry;
  clock: Clock;
  blueprintApp: ConfidentialClientApplication;
  /** The MSAL client of an agent identity (created once per agent). */
  agentApp(agentId: string, t1: () => Promise<string>): ConfidentialClientApplication;
}
