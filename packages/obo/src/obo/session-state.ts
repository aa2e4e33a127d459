import type { L2Cache, L2Entry } from '@agentid/core';
import { cacheTags } from '@agentid/core/broker';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Who a session acts for and as, and until when: everything about it but its refresh token. */
export interface SessionFacts {
  readonly id: string;
  readonly blueprintId: string;
  readonly agentId: string;
  readonly tenantId: string;
  /** The user's object id and tenant (`oid`, `tid`). */
  readonly userId: string;
  readonly userTenantId: string;
  readonly startedAt: number;
  readonly endsAt: number;
}

/**
 * One session's live state: its facts and its refresh token, kept in a private field (never in
 * `util.inspect`, `JSON.stringify`, spread or keys). Refresh-token grants of a session run one
 * at a time (`serialize`): each rotates the token the next one sends.
 */
export class SessionState implements SessionFacts {
  readonly id: string;
  readonly blueprintId: string;
  readonly agentId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly userTenantId: string;
  readonly startedAt: number;
  readonly endsAt: number;
  #refreshToken: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(facts: SessionFacts, refreshToken?: string) {
    this.id = facts.id;
    this.blueprintId = facts.blueprintId;
    this.agentId = facts.agentId;
    this.tenantId = facts.tenantId;
    this.userId = facts.userId;
    this.userTenantId = facts.userTenantId;
    this.startedAt = facts.startedAt;
    this.endsAt = facts.endsAt;
    this.#refreshToken = refreshToken;
  }

  get refreshToken(): string | undefined {
    return this.#refreshToken;
  }

  /** Replaces the refresh token (rotation); `undefined` forgets it (the session ended). */
  setRefreshToken(token: string | undefined): void {
    this.#refreshToken = token;
  }

  /** Runs `fn` after every earlier one of this session settled. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  [INSPECT](): string {
    return `OboSessionState(${this.id}, agent=${this.agentId}, user=${this.userId})`;
  }

  toJSON(): SessionFacts {
    return { ...this };
  }
}

/** The L2 key of a session: its id only (random), never token material. */
export const sessionKey = (id: string): string => `agentid:obo-session:${id}`;

/** The invalidation tags of a session's L2 entry: the same as its user's and agent's tokens. */
export const sessionTags = (f: SessionFacts): string[] => [
  cacheTags.user(f.userId),
  cacheTags.agent(f.agentId),
  cacheTags.blueprint(f.blueprintId),
  cacheTags.tenant(f.tenantId),
];

/**
 * A session as an L2 entry: the refresh token is the entry's `token` (the value an L2 encrypts,
 * e.g. `@agentid/redis`'s AES-GCM value), its facts are in `meta`, and it lives until the session
 * ends.
 */
export function toEntry(state: SessionState): L2Entry {
  const token = state.refreshToken;
  if (token === undefined) throw new TypeError('a session without a refresh token is not stored');
  return {
    token,
    expiresOn: state.endsAt,
    usableUntil: state.endsAt,
    refreshOn: state.endsAt,
    meta: {
      scopes: [],
      subject: state.userId,
      actor: state.agentId,
      tenantId: state.tenantId,
      // What a resumed session needs beyond the above, in the summary's own fields.
      claims: {
        oid: state.userId,
        azp: state.agentId,
        tid: state.userTenantId,
        parentAppId: state.blueprintId,
        iat: state.startedAt / 1000,
        exp: state.endsAt / 1000,
        scp: [],
        roles: [],
        actorFacets: [],
        subjectFacets: [],
      },
    },
    tags: sessionTags(state),
  };
}

/** A session read back from its L2 entry, or `undefined` when the entry is not a session's. */
export function fromEntry(id: string, entry: L2Entry): SessionState | undefined {
  const { meta, token } = entry;
  const c = meta?.claims;
  if (
    typeof token !== 'string' ||
    typeof meta.actor !== 'string' ||
    typeof meta.tenantId !== 'string' ||
    typeof c?.oid !== 'string' ||
    typeof c.tid !== 'string' ||
    typeof c.parentAppId !== 'string' ||
    typeof c.iat !== 'number' ||
    typeof c.exp !== 'number'
  )
    return undefined;
  const facts: SessionFacts = {
    id,
    blueprintId: c.parentAppId,
    agentId: meta.actor,
    tenantId: meta.tenantId,
    userId: c.oid,
    userTenantId: c.tid,
    startedAt: c.iat * 1000,
    endsAt: c.exp * 1000,
  };
  return new SessionState(facts, token);
}

/** Writes a session to the L2 until it ends; an L2 that fails leaves the session in memory only. */
export async function storeSession(store: L2Cache | undefined, state: SessionState, now: number) {
  if (store === undefined || state.refreshToken === undefined) return;
  try {
    await store.set(sessionKey(state.id), toEntry(state), Math.max(1, state.endsAt - now));
  } catch {
    // The L2 may fail (its contract): this replica keeps the session; others cannot resume it.
  }
}
