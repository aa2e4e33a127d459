import { randomUUID } from 'node:crypto';
import type { GrantKind } from '../oauth/grants.js';

/** The emulator's routes, as fault injection and the counters name them. */
export type RouteName =
  'token' | 'jwks' | 'openid' | 'discovery' | 'graph' | 'mi' | 'issuer' | 'admin' | 'health' | 'unknown';

/** One injected fault. Faults are tried in the order added; latency adds up, the first other one answers. */
export interface FaultSpec {
  /** Which route ('*' for all but admin). Default 'token'. */
  route?: RouteName | '*';
  /** Only token requests of this kind. */
  grant?: GrantKind;
  /** Only requests from this client_id. */
  clientId?: string;
  /** status: answer with `status`; latency: wait `latencyMs`, then go on; drop: close the connection; malformed: 200 with a body that is not JSON. */
  kind: 'status' | 'latency' | 'drop' | 'malformed';
  status?: number;
  retryAfterSec?: number;
  latencyMs?: number;
  /** How many matching requests it affects (default: all until removed). */
  times?: number;
  /** Chance (0..1) that a matching request is affected. Default 1. */
  probability?: number;
}

interface ActiveFault extends FaultSpec {
  id: string;
  remaining: number;
}

export interface FaultDecision {
  latencyMs: number;
  fault: ActiveFault | undefined;
}

const KINDS = new Set(['status', 'latency', 'drop', 'malformed']);
const ROUTES = new Set([
  'token',
  'jwks',
  'openid',
  'discovery',
  'graph',
  'mi',
  'issuer',
  'admin',
  'health',
  'unknown',
  '*',
]);
const GRANTS = new Set([
  'leg1',
  'leg2',
  'obo',
  'user_fic',
  'client_credentials',
  'password',
  'refresh_token',
  'unknown',
]);

/** Per-route fault injection. */
export class Faults {
  private list: ActiveFault[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultSpec): string {
    if (!spec || !KINDS.has(spec.kind))
      throw new TypeError(`fault kind must be one of ${[...KINDS].join(', ')}`);
    if (
      spec.kind === 'status' &&
      !(Number.isInteger(spec.status) && spec.status! >= 400 && spec.status! <= 599)
    )
      throw new TypeError('fault status must be an HTTP error status (400-599)');
    if (
      spec.kind === 'latency' &&
      !(typeof spec.latencyMs === 'number' && Number.isFinite(spec.latencyMs) && spec.latencyMs >= 0)
    )
      throw new TypeError('fault latencyMs must be a number >= 0');
    // Specs also arrive as JSON over the admin route: check every field, a bad value must not reach a response header.
    if (spec.route !== undefined && !ROUTES.has(spec.route))
      throw new TypeError(`fault route must be one of ${[...ROUTES].join(', ')}`);
    if (spec.grant !== undefined && !GRANTS.has(spec.grant))
      throw new TypeError(`fault grant must be one of ${[...GRANTS].join(', ')}`);
    if (spec.clientId !== undefined && typeof spec.clientId !== 'string')
      throw new TypeError('fault clientId must be a string');
    if (
      spec.retryAfterSec !== undefined &&
      !(Number.isInteger(spec.retryAfterSec) && spec.retryAfterSec >= 0)
    )
      throw new TypeError('fault retryAfterSec must be an integer >= 0');
    if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times >= 1))
      throw new TypeError('fault times must be an integer >= 1');
    if (
      spec.probability !== undefined &&
      !(typeof spec.probability === 'number' && spec.probability >= 0 && spec.probability <= 1)
    )
      throw new TypeError('fault probability must be a number in 0..1');
    const id = randomUUID();
    const { route, grant, clientId, kind, status, retryAfterSec, latencyMs, times, probability } = spec;
    const clean = Object.fromEntries(
      Object.entries({
        route,
        grant,
        clientId,
        kind,
        status,
        retryAfterSec,
        latencyMs,
        times,
        probability,
      }).filter(([, v]) => v !== undefined),
    ) as unknown as FaultSpec;
    this.list.push({ ...clean, id, remaining: times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  remove(id: string): boolean {
    const n = this.list.length;
    this.list = this.list.filter((f) => f.id !== id);
    return this.list.length !== n;
  }

  clear(): void {
    this.list = [];
  }

  /** The faults in force (with their ids, for `remove`). */
  active(): Array<FaultSpec & { id: string }> {
    return this.list.filter((f) => f.remaining > 0).map(({ remaining: _r, ...f }) => f);
  }

  /** Decides what happens to one request. */
  decide(route: RouteName, grant: GrantKind | undefined, clientId: string | undefined): FaultDecision {
    let latencyMs = 0;
    for (const f of this.list) {
      if (f.remaining <= 0) continue;
      if ((f.route ?? 'token') !== route && !(f.route === '*' && route !== 'admin')) continue;
      if (f.grant && f.grant !== grant) continue;
      if (f.clientId && f.clientId !== clientId) continue;
      if (f.probability !== undefined && this.random() >= f.probability) continue;
      f.remaining -= 1;
      if (f.kind === 'latency') {
        latencyMs += f.latencyMs ?? 0;
        continue;
      }
      this.prune();
      return { latencyMs, fault: f };
    }
    this.prune();
    return { latencyMs, fault: undefined };
  }

  /** Forgets spent faults, also when one of them answered the request. */
  private prune(): void {
    if (this.list.some((f) => f.remaining <= 0)) this.list = this.list.filter((f) => f.remaining > 0);
  }
}
