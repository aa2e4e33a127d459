import type { CacheSlot } from '../cache/store-entry.js';
import type { TokenStore } from '../cache/token-store.js';
import { describeRefusal, isPolicyRefusal } from '../errors/conditional-access.js';

/**
 * What the broker does with a failed acquisition of `clientId` (an agent identity, or the
 * blueprint): a refusal by policy (a Conditional Access block, a disabled agent) is rethrown
 * naming the agent, the flow and the resource, and the token cached for the request is dropped.
 *
 * Why drop it: Entra evaluates policy when it issues a token, so until a request meets the block
 * the cached token is served to its (capped) expiry, as the resource would accept it anyway (a
 * CAE resource revokes it with a claims challenge, and the re-acquisition meets the block). But
 * once Entra has refused (a forced refresh, a refresh-ahead, a miss), serving the older token
 * would hide the block behind it. A refusal is never cached as a success either, so every later
 * call asks Entra again and sees the block until the policy changes. T1 and T2 (flows `exchange`,
 * `instance`) are never evaluated by Conditional Access: their refusals are told by the request
 * that needed them.
 * @internal
 */
export function refusalHandler(
  store: TokenStore,
  clientId: string,
): (error: unknown, target: string | CacheSlot, flow: string, scopes: readonly string[]) => Promise<never> {
  return async (error, target, flow, scopes) => {
    if (flow === 'exchange' || flow === 'instance') throw error;
    const typed = describeRefusal(error, { clientId, flow, scopes });
    // An L2 that cannot be told keeps its copy until it expires; the L1 one is gone at once.
    if (isPolicyRefusal(typed))
      await store
        .invalidate({ key: typeof target === 'string' ? target : target.key })
        .catch(() => undefined);
    throw typed;
  };
}
