import type { GrantKind } from '../oauth/grants.js';
import type { RouteName } from './faults.js';

/** One request the emulator saw. Holds no token or secret. */
export interface RequestRecord {
  at: number;
  route: RouteName;
  method: string;
  path: string;
  status: number;
  grant?: GrantKind;
  clientId?: string;
  /** The agent identity of a leg-1 request. */
  fmiPath?: string;
  scope?: string;
  /** The user named by a user_fic request (UPN or object id). */
  user?: string;
  fault?: string;
  /** AADSTS code of an error answer. */
  aadsts?: number;
}

/** Counts, for assertions in tests. */
export interface CounterSnapshot {
  total: number;
  byRoute: Record<string, number>;
  byGrant: Partial<Record<GrantKind, number>>;
  byClient: Record<string, number>;
  byStatus: Record<string, number>;
}

const bump = (counts: Record<string, number>, name: string): void => {
  counts[name] = (counts[name] ?? 0) + 1;
};

/** Request counters per route, grant, client and status, plus a bounded log of records. */
export class Counters {
  private snap: CounterSnapshot = { total: 0, byRoute: {}, byGrant: {}, byClient: {}, byStatus: {} };
  private log: RequestRecord[] = [];

  constructor(private readonly maxRecords = 100_000) {
    if (!(Number.isInteger(maxRecords) && maxRecords > 0))
      throw new TypeError('maxRecords must be a positive integer');
  }

  record(r: RequestRecord): void {
    const s = this.snap;
    s.total += 1;
    bump(s.byRoute, r.route);
    if (r.grant) bump(s.byGrant as Record<string, number>, r.grant);
    if (r.clientId) bump(s.byClient, r.clientId);
    bump(s.byStatus, String(r.status));
    this.log.push(r);
    // Trim in batches: splicing one record off a full log on every request would be O(n) each time.
    if (this.log.length >= 2 * this.maxRecords) this.log.splice(0, this.log.length - this.maxRecords);
  }

  snapshot(): CounterSnapshot {
    return structuredClone(this.snap);
  }

  /** Recorded requests (the latest `maxRecords`), optionally filtered; an `undefined` filter value matches anything. */
  requests(
    filter: Partial<Pick<RequestRecord, 'route' | 'grant' | 'clientId' | 'fmiPath' | 'status'>> = {},
  ): RequestRecord[] {
    const f = Object.entries(filter).filter(([, v]) => v !== undefined);
    const log = this.log.length > this.maxRecords ? this.log.slice(-this.maxRecords) : this.log;
    return log.filter((r) => f.every(([k, v]) => r[k as keyof RequestRecord] === v)).map((r) => ({ ...r }));
  }

  /** How many token requests of a kind (all kinds when omitted) were seen. */
  tokenRequests(grant?: GrantKind): number {
    return grant ? (this.snap.byGrant[grant] ?? 0) : (this.snap.byRoute.token ?? 0);
  }

  reset(): void {
    this.snap = { total: 0, byRoute: {}, byGrant: {}, byClient: {}, byStatus: {} };
    this.log = [];
  }
}
