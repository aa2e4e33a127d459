import type { TokenAcquisition } from '../cache/token-store.js';
import { isAgentIdError } from '../errors/agent-id-error.js';
import type { Agent } from './agent.js';
import type { BlueprintRuntime } from '../blueprint/runtime.js';

/** Whether Entra rejected the agent's own client assertion (T1), as opposed to the user's or the grant. */
const assertionRejected = (e: unknown): boolean => isAgentIdError(e) && (e.code === 'AGENTID_INVALID_CLIENT' || (e.code === 'AGENTID_ASSERTION_EXPIRED' && e.aadsts === 700024));

class RequestFailure {
  constructor(readonly inner: unknown) {}
}

/**
 * Runs one MSAL request of an agent (OBO, user_fic, ...) through the blueprint's network module and
 * clears MSAL's cache after it (MSAL keeps every token it receives, even with `skipCache`; the
 * broker's cache is the only one). When Entra rejects the agent's cached assertion (T1), the
 * request is made once more with fresh assertions (`fresh = true`); failures to get the
 * assertions themselves, and every other rejection, are not retried. So `prepare` must get every
 * assertion the request sends (T1, T2) itself, before returning: one first fetched inside the MSAL
 * call (by the client's assertion callback) would fail there, and a refused blueprint credential
 * (leg 1 `invalid_client`) would look like a rejected T1 and be sent twice.
 *
 * @example
 * ```ts
 * const acquisition = await withFreshAssertions(agent, agentBroker(agent).runtime, signal, async (fresh) => {
 *   await agent.getExchangeToken({ forceRefresh: fresh, signal }); // leg 1 here, never retried as "T1 rejected"
 *   return async () => toAcquisition(await agent.msal.acquireTokenOnBehalfOf({ oboAssertion, scopes, skipCache: true }), scopes);
 * });
 * ```
 */
export async function withFreshAssertions(
  agent: Agent,
  runtime: BlueprintRuntime,
  signal: AbortSignal,
  prepare: (fresh: boolean) => Promise<() => Promise<TokenAcquisition>>,
): Promise<TokenAcquisition> {
  const attempt = async (fresh: boolean) => {
    const send = await prepare(fresh);
    return runtime.network
      .run({ signal }, async () => {
        try {
          return await send();
        } finally {
          agent.msal.clearCache();
        }
      })
      .catch((e: unknown) => {
        throw new RequestFailure(e);
      });
  };
  try {
    return await attempt(false);
  } catch (e) {
    const inner = e instanceof RequestFailure ? e.inner : e;
    if (!(e instanceof RequestFailure) || !assertionRejected(inner)) throw inner;
    try {
      return await attempt(true);
    } catch (e2) {
      throw e2 instanceof RequestFailure ? e2.inner : e2;
    }
  }
}
