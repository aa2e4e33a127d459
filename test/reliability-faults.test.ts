// Faults from the emulator: 429 with Retry-After, 503 bursts, latency spikes, dropped connections,
// malformed responses, JWKS rotation mid-run. Nothing hangs past its deadline, no expired token is
// ever served, and requests succeed once the fault clears.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { type Blueprint, createBlueprint, isAgentIdError, secretCredential } from '@agentid/core';
import { createManualClock } from '@agentid/core/broker';
import { createEmulator, DEMO, type Emulator, type FaultSpec } from '@agentid/emulator';
import { agentid, agentidErrors } from '@agentid/express';
import { validatorForBlueprint } from '@agentid/obo';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const W = DEMO.blueprints.workers;
const REPORTS = ['api://reports/.default'];
let emu: Emulator;
export const faultTotals = { kinds: new Set<string>() };

const blueprint = (network: { timeoutMs?: number; retries?: number } = {}): Blueprint =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch, ...network },
  });
const fault = (spec: FaultSpec) => {
  faultTotals.kinds.add(spec.kind === 'status' ? String(spec.status) : spec.kind);
  return emu.faults.add(spec);
};
async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

beforeAll(async () => {
  emu = await createEmulator();
});
afterEach(() => emu.faults.clear());
afterAll(() => emu.close());

describe('faults at the token endpoint', () => {
  it('429 with Retry-After: waits what the server asked, then succeeds', async () => {
    emu.counters.reset();
    fault({ kind: 'status', status: 429, retryAfterSec: 1, grant: 'leg1', times: 1 });
    const r = await timed(blueprint().agent(DEMO.agents.mail).getToken(REPORTS));
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeGreaterThanOrEqual(950);
    expect(r.ms).toBeLessThan(5_000);
    expect(emu.counters.tokenRequests('leg1')).toBe(2);
  });

  it('503 bursts: retried with backoff; a persistent 503 fails typed and bounded; after it clears, success', async () => {
    emu.counters.reset();
    fault({ kind: 'status', status: 503, grant: 'leg2', times: 3 });
    const ok = await timed(blueprint().agent(DEMO.agents.calendar).getToken(REPORTS));
    expect(ok.error).toBeUndefined();
    expect(emu.counters.tokenRequests('leg2')).toBe(4);
    const id = fault({ kind: 'status', status: 503 });
    const bp = blueprint({ retries: 2 });
    const failed = await timed(bp.agent(DEMO.agents.reporter).getToken(REPORTS));
    expect(isAgentIdError(failed.error)).toBe(true);
    expect((failed.error as { retryable: boolean }).retryable).toBe(true);
    expect(failed.ms).toBeLessThan(10_000);
    emu.faults.remove(id);
    expect((await bp.agent(DEMO.agents.reporter).getToken(REPORTS)).subject).toBe(DEMO.agents.reporter);
  });

  it('latency spikes: a slow attempt times out and is retried; a hung endpoint fails within its deadline; a caller signal is honoured', async () => {
    fault({ kind: 'latency', latencyMs: 3_000, times: 1 });
    const spike = await timed(blueprint({ timeoutMs: 300 }).agent(DEMO.agents.mail).getToken(REPORTS));
    expect(spike.error).toBeUndefined();
    expect(spike.ms).toBeLessThan(2_500);
    fault({ kind: 'latency', latencyMs: 5_000 });
    const hung = await timed(
      blueprint({ timeoutMs: 200, retries: 1 }).agent(DEMO.agents.calendar).getToken(REPORTS),
    );
    expect((hung.error as { code?: string }).code).toBe('AGENTID_TIMEOUT');
    expect(hung.ms).toBeLessThan(2_000);
    const aborted = await timed(
      blueprint()
        .agent(DEMO.agents.reporter)
        .getToken(REPORTS, { signal: AbortSignal.timeout(150) }),
    );
    expect(isAgentIdError(aborted.error)).toBe(true);
    expect(aborted.ms).toBeLessThan(1_500);
  });

  it('dropped connections are retried; malformed responses fail typed and are never cached', async () => {
    fault({ kind: 'drop', times: 2 });
    const dropped = await timed(blueprint().agent(DEMO.agents.mail).getToken(REPORTS));
    expect(dropped.error).toBeUndefined();
    const bp = blueprint({ retries: 0 });
    fault({ kind: 'malformed', times: 1 });
    const bad = await timed(bp.agent(DEMO.agents.calendar).getToken(REPORTS));
    expect(isAgentIdError(bad.error)).toBe(true);
    const good = await bp.agent(DEMO.agents.calendar).getToken(REPORTS);
    expect(good.subject).toBe(DEMO.agents.calendar);
  });

  it('no expired token is ever served: past its usable time, a cached token is refused while the endpoint fails, and replaced once it recovers', async () => {
    const clock = createManualClock(Date.now());
    const timedEmu = await createEmulator({ clock, tokenLifetimeSec: 1200 });
    try {
      const bp = createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: W.appId,
        credential: secretCredential(W.secret, { silenceWarning: true }),
        authorityHost: timedEmu.baseUrl,
        network: { fetch: timedEmu.fetch, retries: 1, minRetryDelayMs: 1 } as {
          fetch: typeof fetch;
          retries: number;
        },
        clock,
      });
      const agent = bp.agent(DEMO.agents.mail);
      const first = await agent.getToken(REPORTS);
      timedEmu.faults.add({ kind: 'status', status: 503 });
      // Step through the token's life with the endpoint down: whatever is served is still valid
      // with the policy's margin (5 min + 1 min skew); past that, nothing is served.
      for (let t = 0; t <= 1300; t += 100) {
        clock.set(first.expiresOn.getTime() - 1_200_000 + t * 1000);
        const r = await timed(agent.getToken(REPORTS));
        if (r.value) expect(r.value.expiresOn.getTime() - clock.now()).toBeGreaterThanOrEqual(360_000);
        else expect(isAgentIdError(r.error)).toBe(true);
        if (clock.now() >= first.expiresOn.getTime() - 360_000) expect(r.value).toBeUndefined();
      }
      timedEmu.faults.clear();
      const fresh = await agent.getToken(REPORTS);
      expect(fresh.expiresOn.getTime()).toBeGreaterThan(clock.now() + 360_000);
      expect(fresh.token).not.toBe(first.token);
    } finally {
      await timedEmu.close();
    }
  });
});

describe('JWKS rotation mid-run, through the Express middleware', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const O = DEMO.blueprints.orchestrator;
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: secretCredential(O.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const app = express();
    // A short JWKS cooldown (default 30 s): the emulator signs with a new key the moment it rotates,
    // where Entra announces keys ahead; an unknown kid reloads the keys at most once per cooldown.
    const validator = validatorForBlueprint(bp, { jwks: { cooldownMs: 200 } });
    app.use(
      agentid({
        blueprint: bp,
        agentId: DEMO.agents.orchestrator,
        validator,
        tools: { files: { resource: 'api://tools', scopes: ['Files.Read'], mode: 'obo' } },
      }),
    );
    app.get('/', (req, res) => res.json({ oid: req.agentid!.principal.oid }));
    app.use(agentidErrors());
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('tokens signed before and after each rotation are accepted, under load, with no 5xx', async () => {
    faultTotals.kinds.add('jwks-rotation');
    const token = () =>
      emu.issueUserToken({
        user: DEMO.users.alice.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${DEMO.blueprints.orchestrator.appId}/access_agent`],
      });
    const statuses: number[] = [];
    let oldest = await token();
    for (let round = 0; round < 3; round++) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => token()));
      const rotated = emu.rotateKeys();
      const results = await Promise.all(
        [...batch, oldest].map((t) =>
          fetch(url, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status),
        ),
      );
      await rotated;
      statuses.push(...results);
      await new Promise((r) => setTimeout(r, 250));
      // After the rotation (and one cooldown): new tokens (new kid) validate.
      expect((await fetch(url, { headers: { authorization: `Bearer ${await token()}` } })).status).toBe(200);
      oldest = batch[0]!;
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
  });
});
