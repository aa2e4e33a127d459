import { randomUUID } from 'node:crypto';
import type { GrantKind } from '../oauth/grants.js';

/** The emulator's routes, as fault injection and the counters name them. */
export type RouteName = 'token' | 'jwks' | 'openid' | 'discovery' | 'graph' | 'mi' | 'issuer' | 'admin' | 'health' | 'unknown';

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

/** Per-route fault injection. */
export class Faults {
  private list: ActiveFault[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultSpec): string {
    if (!spec || !KINDS.has(spec.kind)) throw new TypeError(`fault kind must be one of ${[...KINDS].join(', ')}`);
    if (spec.kind === 'status' && !(Number.isInteger(spec.status) && spec.status! >= 400 && spec.status! <= 599)) throw new TypeError('fault status must be an HTTP error status (400-599)');
    if (spec.kind === 'latency' && !(typeof spec.latencyMs === 'number' && spec.latencyMs >= 0)) throw new TypeError('fault latencyMs must be a number >= 0');
    const id = randomUUID();
    this.list.push({ ...spec, id, remaining: spec.times ?? Number.POSITIVE_INFINITY });
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

  /** The faults in force. */
  active(): FaultSpec[] {
    return this.list.map(({ remaining: _r, ...f }) => f);
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
      return { latencyMs, fault: f };
    }
    this.list = this.list.filter((f) => f.remaining > 0);
    return { latencyMs, fault: undefined };
  }
}
