// Soak: a bounded loop (SOAK_SECONDS, default 120 s; on loopback only) of mixed flows (OBO for two
// tools, autonomous, agent user) through Express against the emulator with faults on (503, 429,
// latency, dropped connections). Memory stays flat; no wrong subject; no 500. Uses the built
// packages (`npm test` builds first); the figures are printed for the closing note.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const seconds = Number(process.env['SOAK_SECONDS'] ?? 120);

describe('soak', () => {
  it(
    `${seconds} s of mixed flows through Express with faults on: memory flat, every answer right`,
    () => {
      const { NODE_OPTIONS: _omit, ...env } = process.env;
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', fileURLToPath(new URL('./soak/soak.mjs', import.meta.url))],
        {
          env: { ...env, SOAK_SECONDS: String(seconds) },
          encoding: 'utf8',
          timeout: (seconds + 120) * 1000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      const figures = JSON.parse(line!) as {
        requests: number;
        statuses: Record<string, number>;
        wrongSubject: number;
        tokenRequests: number;
        heapMB: { warm: number; end: number; max: number };
      };
      console.log(`soak figures: ${line}`);
      expect(figures.requests).toBeGreaterThan(seconds * 50);
      expect(figures.wrongSubject).toBe(0);
      // Faults are absorbed by retries; a rare 503 (retries exhausted) is a typed answer, never a 500 or a hang.
      const total = Object.values(figures.statuses).reduce((a, b) => a + b, 0);
      const ok = figures.statuses['200'] ?? 0;
      expect(Object.keys(figures.statuses).filter((s) => s !== '200' && s !== '503')).toEqual([]);
      expect(ok / total).toBeGreaterThan(0.99);
      expect(figures.tokenRequests).toBeGreaterThan(100); // the small L1 keeps acquisitions (and faults) going
      // Flat memory: the heap after a full GC at the end is within 15 MB of the heap after warm-up.
      expect(figures.heapMB.end - figures.heapMB.warm).toBeLessThan(15);
    },
    (seconds + 150) * 1000,
  );
});
