/** One actor of a verified chain (an RFC 8693 `act` object without its nested `act`). */
export interface VerifiedActor {
  sub: string;
  sub_profile: 'user' | 'agent_user' | 'agent_identity' | 'application';
  tid: string;
  xms_par_app_azp?: string;
}

/** What {@link verifyChain} returns: actors and chain in order, last = the current actor. */
export interface VerifiedChain {
  iss: string;
  exp: number;
  subject: { sub: string; sub_profile: string; tid: string };
  actors: VerifiedActor[];
  chain: string[];
  depth: number;
  prev?: { iss: string; hash: string };
}

/** Options of {@link verifyChain}. */
export interface VerifyChainOptions {
  /** The chain JWKS, or the URL it is served at. */
  jwks: { readonly keys: readonly object[] } | string | URL;
  /** Default `urn:agentid:chain`. */
  issuer?: string;
  /** Default 5. */
  maxHops?: number;
  /** Default 60. */
  clockToleranceSec?: number;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Default `['ES256', 'PS256']`. */
  algorithms?: string[];
}

/**
 * Verifies an agentid chain header against the (already validated) access token it came with.
 * Throws an `Error` whose `code` is `AGENTID_DELEGATION_MISSING`, `AGENTID_DELEGATION_INVALID`,
 * `AGENTID_DELEGATION_CYCLE` or `AGENTID_HOP_LIMIT`.
 *
 * @example
 * ```ts
 * const chain = await verifyChain(req.headers['x-agentid-delegation'], bearer, { jwks: 'https://agents.contoso.com/.well-known/agentid-chain-jwks.json' });
 * ```
 */
export function verifyChain(
  header: string | readonly string[] | undefined,
  accessToken: string,
  options: VerifyChainOptions,
): Promise<VerifiedChain>;
