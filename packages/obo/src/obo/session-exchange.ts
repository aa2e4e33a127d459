import { type Agent, OAuthError } from '@agentid/core';
import {
  type BlueprintServices,
  type Exchange,
  findAgentIdError,
  type SendContext,
  type TokenAcquisition,
} from '@agentid/core/broker';
import type { SessionState } from './session-state.js';
import { postAgentTokenRequest, type RefreshableAnswer } from './token-request.js';

/** What an exchange asks of its session's owner (`createOboSessions`). */
export interface SessionHooks {
  now(): number;
  expired(): OAuthError;
  revoked(): OAuthError;
  /** The session is over (Entra refused its refresh token, or the store no longer has it). */
  ended(state: SessionState): Promise<void>;
  /** Adopts the store's newest refresh token; `false` when the store no longer has the session. */
  reload: (() => Promise<boolean>) | undefined;
  /** Writes the rotated refresh token to the store. */
  stored(state: SessionState): Promise<void>;
}

/** AADSTS numbers that say a refresh token's time is up (inactivity, sign-in frequency), not that it was revoked. */
const EXPIRED = new Set([700082, 70008, 70043]);

const withOfflineAccess = (scopes: readonly string[]): string =>
  [...new Set([...scopes, 'offline_access'])].join(' ');

/**
 * One token request of a session, run by the broker on a miss with T1 as the client assertion:
 * the first is an on-behalf-of exchange of the user's assertion (with `offline_access`), every
 * later one the refresh-token grant. Either answer's refresh token replaces the session's
 * (rotation); grants of one session run one at a time, so each sends the newest.
 */
export class SessionExchange implements Exchange {
  constructor(
    private readonly services: BlueprintServices,
    private readonly agent: Agent,
    private readonly state: SessionState,
    private readonly scopes: readonly string[],
    private readonly assertion: string | undefined,
    private readonly hooks: SessionHooks,
  ) {}

  send({ clientAssertion, signal }: SendContext) {
    return this.state.serialize(async () => {
      const answer =
        this.assertion !== undefined
          ? await this.exchange(this.assertion, clientAssertion, signal)
          : await this.refresh(clientAssertion, signal);
      if (answer.refreshToken !== undefined) {
        this.state.setRefreshToken(answer.refreshToken);
        await this.hooks.stored(this.state);
      }
      return answer.result;
    });
  }

  verify(issued: TokenAcquisition): void {
    if (issued.meta.subject?.toLowerCase() !== this.state.userId.toLowerCase())
      throw new OAuthError(
        'AGENTID_TOKEN_ENDPOINT',
        "The session's token names another subject than its user; it was discarded",
      );
  }

  private async exchange(assertion: string, clientAssertion: string, signal: AbortSignal) {
    const answer = await postAgentTokenRequest(
      this.services,
      this.agent,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        requested_token_use: 'on_behalf_of',
        assertion,
        scope: withOfflineAccess(this.scopes),
      },
      clientAssertion,
      signal,
    );
    if (answer.refreshToken === undefined)
      throw new OAuthError(
        'AGENTID_TOKEN_ENDPOINT',
        'The on-behalf-of answer carried no refresh token (offline_access was not granted): no session can outlive the user token',
      );
    return answer;
  }

  private async refresh(clientAssertion: string, signal: AbortSignal): Promise<RefreshableAnswer> {
    const { hooks, state } = this;
    if (hooks.now() >= state.endsAt) {
      await hooks.ended(state);
      throw hooks.expired();
    }
    if (hooks.reload !== undefined && !(await hooks.reload())) {
      await hooks.ended(state);
      throw hooks.revoked();
    }
    const refreshToken = state.refreshToken;
    if (refreshToken === undefined) throw hooks.revoked();
    try {
      return await postAgentTokenRequest(
        this.services,
        this.agent,
        { grant_type: 'refresh_token', refresh_token: refreshToken, scope: withOfflineAccess(this.scopes) },
        clientAssertion,
        signal,
      );
    } catch (e) {
      const error = findAgentIdError(e);
      // Entra refused the refresh token itself: the session is over (never retried).
      // (Consent and interaction answers are the caller's to handle: the session goes on.)
      if (error?.code !== 'AGENTID_INVALID_GRANT') throw e;
      await hooks.ended(state);
      const ended = EXPIRED.has(error.aadsts ?? 0) ? hooks.expired() : hooks.revoked();
      throw new OAuthError(
        ended.code as 'AGENTID_SESSION_EXPIRED',
        `${ended.message} (Entra: ${error.message})`,
        {
          cause: e,
          ...(error.status !== undefined ? { status: error.status } : {}),
          error: 'invalid_grant',
          ...(error.aadsts !== undefined ? { aadsts: error.aadsts } : {}),
        },
      );
    }
  }
}
