import { randomUUID } from 'node:crypto';
import {
  type AccessToken,
  type Agent,
  type Blueprint,
  ConfigurationError,
  type GetTokenOptions,
  type L2Cache,
  OAuthError,
  TokenValidationError,
} from '@agentid/core';
import { ATTR, brokerOf, cacheTags, servicesOf } from '@agentid/core/broker';
import { MAX_TOKEN_LENGTH } from '../validate/header.js';
import type { Principal } from '../validate/principal.js';
import { assertScopes, userOfAssertion } from './on-behalf-of.js';
import { fromEntry, sessionKey, SessionState, storeSession, type SessionFacts } from './session-state.js';
import { SessionExchange } from './session-exchange.js';

const HOUR = 3_600_000;
/** Default {@link OboSessionsOptions.maxSessionMs}: a working day. */
export const DEFAULT_MAX_SESSION_MS = 8 * HOUR;
const MIN_SESSION_MS = 60_000;
const MAX_SESSION_MS = 24 * HOUR;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Options of {@link createOboSessions}.
 *
 * @example
 * ```ts
 * const options: OboSessionsOptions = { maxSessionMs: 4 * 3_600_000, store: redisL2 };
 * ```
 */
export interface OboSessionsOptions {
  /**
   * The longest an agent may keep acting for a user after the user's request started the session,
   * in ms, whatever the refresh tokens allow (Entra's live for up to 90 days). Default 8 h (a
   * working day: long enough for background work started by a request, short enough that
   * unattended delegation ends before the user's next day); 1 min to 24 h.
   */
  maxSessionMs?: number;
  /**
   * Where sessions are also kept, so that another replica (or this one after a restart) can
   * `resume` them and a revocation reaches every replica at its next refresh: an `L2Cache`, e.g.
   * `@agentid/redis`'s, which encrypts the refresh token in its AES-GCM value (the key names the
   * session id only). Default: in memory only.
   */
  store?: L2Cache;
}

/**
 * Options of {@link OboSessions.start}.
 *
 * @example
 * ```ts
 * await sessions.start(agent, bearer, ['api://tools/Files.Read'], { principal, signal: req.signal });
 * ```
 */
export interface OboSessionStartOptions {
  /** The validated user (from `validator.validate`); without it, the assertion's claims name the user. */
  principal?: Principal;
  signal?: AbortSignal;
}

/**
 * What {@link OboSessions.invalidate} ends: every session of a user (object id), or one session.
 *
 * @example
 * ```ts
 * await sessions.invalidate({ user: principal.oid });
 * ```
 */
export type OboSessionTarget = { user: string } | { session: string };

/**
 * An agent's long-running session for a user: tokens on the user's behalf after the user's own
 * token expired, by the refresh-token grant with T1 (PROTOCOL.md), until `endsAt`, `end()` or
 * an invalidation. The refresh token is never exposed: not as a property, not in `util.inspect`
 * or `JSON.stringify`.
 *
 * @example
 * ```ts
 * const t = await session.getToken(['api://tools/Files.Read']); // hours later, still for the user
 * ```
 */
export interface OboSession {
  /** The session's id (random; not a secret): `resume` takes it. */
  readonly id: string;
  readonly agentId: string;
  /** The user's object id (`oid`) and tenant (`tid`). */
  readonly userId: string;
  readonly userTenantId: string;
  readonly startedAt: Date;
  /** When the session ends whatever happens: `startedAt` + `maxSessionMs`. */
  readonly endsAt: Date;
  /**
   * A token to `scopes` for the user, as the agent: from the cache, or by the refresh-token grant
   * (which rotates the session's refresh token). Rejects with `AGENTID_SESSION_EXPIRED` once the
   * session is over, `AGENTID_SESSION_REVOKED` once it was ended or Entra refused its refresh token.
   */
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<AccessToken>;
  /** Ends the session: its refresh token is forgotten here and removed from the store. */
  end(): Promise<void>;
}

/**
 * A blueprint's long-running OBO sessions: `start` one from a user's request, `resume` one by id
 * (from the store), `invalidate` a user's or one session.
 *
 * @example
 * ```ts
 * const sessions = createOboSessions(blueprint, { store: l2 });
 * const session = await sessions.start(blueprint.agent(agentId), bearer, ['api://tools/Files.Read']);
 * ```
 */
export interface OboSessions {
  /**
   * Exchanges the user's token on behalf of the user (with `offline_access`, so that Entra also
   * answers a refresh token) and starts a session. Its first token to `scopes` is cached.
   */
  start(
    agent: Agent,
    userAssertion: string,
    scopes: readonly string[],
    options?: OboSessionStartOptions,
  ): Promise<OboSession>;
  /** A session started elsewhere (another replica, before a restart), read from the store. */
  resume(agent: Agent, sessionId: string): Promise<OboSession>;
  /**
   * Ends sessions: here at once, in the store for every replica (at their next refresh). For a
   * user, the user's cached tokens are dropped too (`blueprint.invalidate({ user })`), and the
   * store's sessions by the user's tag (a store without `invalidateTag` keeps them: only this
   * replica's end). Resolves with how many sessions this replica ended.
   */
  invalidate(target: OboSessionTarget): Promise<number>;
}

const sessionError = (code: 'AGENTID_SESSION_EXPIRED' | 'AGENTID_SESSION_REVOKED', s: SessionFacts) =>
  new OAuthError(
    code,
    code === 'AGENTID_SESSION_EXPIRED'
      ? `The session ${s.id} of agent ${s.agentId} for user ${s.userId} reached its maximum length; the user must start a new one`
      : `The session ${s.id} of agent ${s.agentId} for user ${s.userId} was ended or revoked; the user must start a new one`,
  );

function checkOptions(options: OboSessionsOptions): { maxSessionMs: number; store: L2Cache | undefined } {
  if (options === null || typeof options !== 'object')
    throw new ConfigurationError('createOboSessions: options must be an object');
  const { maxSessionMs = DEFAULT_MAX_SESSION_MS, store } = options;
  if (
    typeof maxSessionMs !== 'number' ||
    !Number.isInteger(maxSessionMs) ||
    maxSessionMs < MIN_SESSION_MS ||
    maxSessionMs > MAX_SESSION_MS
  )
    throw new ConfigurationError(
      'createOboSessions: maxSessionMs must be an integer number of ms from 60000 (1 min) to 86400000 (24 h)',
    );
  if (
    store !== undefined &&
    (store === null || typeof store.get !== 'function' || typeof store.set !== 'function')
  )
    throw new ConfigurationError('createOboSessions: store must be an L2Cache (get, set, delete)');
  return { maxSessionMs, store };
}

/**
 * Long-running work for a user (PROTOCOL.md, agent on-behalf-of): sessions in which an agent
 * keeps acting for a user after the user's token expired, by the refresh-token grant with T1,
 * through the broker's one acquisition path (cache, single-flight, span `agentid.obo-session`,
 * one retry with a fresh T1), bounded by `maxSessionMs`, revocable, and never exposing the
 * refresh token (kept in memory in a private field, and in the store's encrypted value).
 *
 * @example
 * ```ts
 * const sessions = createOboSessions(blueprint, { maxSessionMs: 4 * 3_600_000 });
 * const session = await sessions.start(blueprint.agent(agentId), req.token, ['api://tools/Files.Read'], { principal });
 * queue.push(async () => fetch(url, { headers: { authorization: `Bearer ${(await session.getToken(['api://tools/Files.Read'])).token}` } }));
 * ```
 */
export function createOboSessions(blueprint: Blueprint, options: OboSessionsOptions = {}): OboSessions {
  const services = servicesOf(blueprint);
  const { maxSessionMs, store } = checkOptions(options);
  const { clock } = services;
  /** This replica's live sessions, by id. Ended and expired ones are removed. */
  const live = new Map<string, SessionState>();
  let sweptAt = 0;
  const sweep = (now: number) => {
    if (now - sweptAt < 60_000) return;
    sweptAt = now;
    for (const s of live.values()) if (s.endsAt <= now) forget(s);
  };
  const forget = (s: SessionState) => {
    s.setRefreshToken(undefined);
    live.delete(s.id);
  };
  const drop = async (s: SessionState) => {
    forget(s);
    await store?.delete(sessionKey(s.id));
  };

  const checkAgent = (agent: Agent, where: string) => {
    const broker = brokerOf(agent);
    if (broker.services !== services || agent.blueprintId !== blueprint.clientId)
      throw new TypeError(`${where}: the agent is not one of this blueprint's`);
    return broker;
  };

  /** Gets a token for a live session through the broker; `assertion` only for the first one. */
  const acquire = (
    agent: Agent,
    state: SessionState,
    scopes: readonly string[],
    getOptions: GetTokenOptions,
    assertion?: string,
  ): Promise<AccessToken> => {
    const broker = brokerOf(agent);
    const request = {
      flow: 'obo-session',
      scopes,
      subject: `${state.userId}@${state.userTenantId}`,
      extra: { session: state.id },
      tags: [cacheTags.user(state.userId)],
      attributes: {
        [ATTR.OBO_USER_ID]: state.userId,
        [ATTR.OBO_USER_TENANT]: state.userTenantId,
        'agentid.obo.session.id': state.id,
      },
    };
    const exchange = new SessionExchange(services, agent, state, scopes, assertion, {
      now: () => clock.now(),
      expired: () => sessionError('AGENTID_SESSION_EXPIRED', state),
      revoked: () => sessionError('AGENTID_SESSION_REVOKED', state),
      // The refusal is what the caller needs to see, not a store that failed to forget the session.
      ended: (s) => drop(s).catch(() => undefined),
      reload: store ? () => reload(state) : undefined,
      stored: (s) => storeSession(store, s, clock.now()),
    });
    return broker.acquire(request, exchange, getOptions);
  };

  /** The session's newest refresh token from the store (another replica may have rotated it); false once it is gone. */
  const reload = async (state: SessionState): Promise<boolean> => {
    let entry;
    try {
      entry = await store!.get(sessionKey(state.id));
    } catch {
      return true; // The L2 is down: keep going with this replica's token.
    }
    const found = entry ? fromEntry(state.id, entry) : undefined;
    if (found === undefined) return false;
    if (found.refreshToken !== state.refreshToken) state.setRefreshToken(found.refreshToken);
    return true;
  };

  const handle = (agent: Agent, state: SessionState): OboSession => {
    const session: OboSession = {
      id: state.id,
      agentId: state.agentId,
      userId: state.userId,
      userTenantId: state.userTenantId,
      startedAt: new Date(state.startedAt),
      endsAt: new Date(state.endsAt),
      getToken(scopes, getOptions = {}) {
        try {
          assertScopes('OboSession.getToken', scopes);
          const now = clock.now();
          if (now >= state.endsAt) {
            void drop(state).catch(() => undefined);
            throw sessionError('AGENTID_SESSION_EXPIRED', state);
          }
          if (live.get(state.id) !== state) throw sessionError('AGENTID_SESSION_REVOKED', state);
          return acquire(agent, state, scopes, getOptions);
        } catch (e) {
          return Promise.reject(e);
        }
      },
      end: () => drop(state),
    };
    Object.defineProperty(session, INSPECT, {
      value: () =>
        `OboSession(${state.id}, agent=${state.agentId}, user=${state.userId}, endsAt=${session.endsAt.toISOString()})`,
    });
    return Object.freeze(session);
  };

  const sessions: OboSessions = {
    async start(agent, userAssertion, scopes, startOptions = {}) {
      checkAgent(agent, 'OboSessions.start');
      if (
        typeof userAssertion !== 'string' ||
        userAssertion === '' ||
        userAssertion.length > MAX_TOKEN_LENGTH
      )
        throw new TokenValidationError(
          'AGENTID_UNAUTHENTICATED',
          "OboSessions.start: the user's assertion must be a non-empty token",
        );
      assertScopes('OboSessions.start', scopes);
      const user = userOfAssertion(userAssertion, startOptions.principal);
      const now = clock.now();
      sweep(now);
      const state = new SessionState({
        id: randomUUID(),
        blueprintId: blueprint.clientId,
        agentId: agent.id,
        tenantId: agent.tenantId,
        userId: user.oid,
        userTenantId: user.tid,
        startedAt: now,
        endsAt: now + maxSessionMs,
      });
      live.set(state.id, state);
      try {
        await acquire(
          agent,
          state,
          scopes,
          startOptions.signal ? { signal: startOptions.signal } : {},
          userAssertion,
        );
      } catch (e) {
        forget(state);
        throw e;
      }
      return handle(agent, state);
    },

    async resume(agent, sessionId) {
      checkAgent(agent, 'OboSessions.resume');
      if (typeof sessionId !== 'string' || sessionId === '')
        throw new TypeError('OboSessions.resume: sessionId must be a session id');
      const mine = live.get(sessionId);
      if (mine !== undefined && mine.agentId === agent.id) return handle(agent, mine);
      const entry = store ? await store.get(sessionKey(sessionId)) : undefined;
      const state = entry ? fromEntry(sessionId, entry) : undefined;
      if (state === undefined || state.agentId !== agent.id || state.blueprintId !== blueprint.clientId)
        throw new OAuthError('AGENTID_SESSION_REVOKED', `No live session ${sessionId} of agent ${agent.id}`);
      if (clock.now() >= state.endsAt) throw sessionError('AGENTID_SESSION_EXPIRED', state);
      live.set(state.id, state);
      return handle(agent, state);
    },

    async invalidate(target) {
      if (target !== null && typeof target === 'object' && 'session' in target) {
        const s = live.get(target.session);
        if (s) forget(s);
        await store?.delete(sessionKey(target.session));
        return s ? 1 : 0;
      }
      if (target === null || typeof target !== 'object' || typeof target.user !== 'string')
        throw new ConfigurationError('OboSessions.invalidate: target must be { user } or { session }');
      const user = target.user.toLowerCase();
      let n = 0;
      for (const s of live.values()) {
        if (s.userId.toLowerCase() === user) {
          forget(s);
          n++;
        }
      }
      // The user's cached tokens (L1 and the blueprint's L2), then the sessions in the store.
      await blueprint.invalidate({ user: target.user });
      await store?.invalidateTag?.(cacheTags.user(target.user));
      return n;
    },
  };
  return Object.freeze(sessions);
}
