import type { EmuRequest } from '../http/types.js';

/**
 * Settings of the emulator's Graph, changeable at run time (`emu.graph`).
 *
 * @example
 * ```ts
 * const emu = await createEmulator({ graph: { replicationLag: 1 } });
 * emu.graph.directoryQuota = 10;
 * ```
 */
export interface GraphSettings {
  /**
   * Simulates Entra's replication delay: this many requests that reference a just-created object
   * (in the path or the body) answer `400 Object with id '…' not found` before it is seen. Default 0.
   */
  replicationLag: number;
  /** A tenant quota of agent objects (blueprints plus agent identities, soft-deleted ones included): beyond 95% of it Graph answers `Agent_Directory_QuotaExceeded`. Default none. */
  directoryQuota: number | undefined;
}

/** Ids of objects not yet "replicated", with how many more references will miss them. */
export class Replication {
  private readonly pending = new Map<string, number>();

  constructor(private readonly settings: GraphSettings) {}

  /** A new object: the next `replicationLag` references to it will not find it. */
  created(id: string): void {
    if (this.settings.replicationLag > 0) this.pending.set(id.toLowerCase(), this.settings.replicationLag);
  }

  /** The id of a pending object the request references (consuming one miss), if any. */
  miss(req: EmuRequest): string | undefined {
    if (this.pending.size === 0) return undefined;
    const haystack = `${req.url.pathname} ${req.url.search} ${req.body}`.toLowerCase();
    for (const [id, left] of this.pending) {
      if (!haystack.includes(id)) continue;
      if (left <= 1) this.pending.delete(id);
      else this.pending.set(id, left - 1);
      return id;
    }
    return undefined;
  }
}
