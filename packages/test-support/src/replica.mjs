// One replica of an agent service, in its own process: a blueprint with its own L1 and the shared
// Redis L2, talking to the parent's emulator over HTTP. Driven by IPC messages from the test.
// Imports the built packages (dist): run `npm run build` first (CI does).
import { createBlueprint, secretCredential } from '@agentid/core';
import { createRedisL2 } from '@agentid/redis';

const cfg = JSON.parse(process.env.AGENTID_REPLICA ?? '{}');
const l2 = createRedisL2({
  url: cfg.redisUrl,
  encryption: cfg.encryption,
  // Generous: 8 replicas, the emulator and the test share two cores in CI. A dead Redis fails
  // fast anyway (connection refused), not by timing out.
  commandTimeoutMs: 2_000,
  breaker: { failureThreshold: 3, cooldownMs: 300 },
});
const viaEmulator = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  return fetch(url.replace(cfg.authorityHost, cfg.emulatorUrl), init);
};
const blueprint = createBlueprint({
  tenantId: cfg.tenantId,
  clientId: cfg.clientId,
  credential: secretCredential(cfg.secret, { silenceWarning: true }),
  authorityHost: cfg.authorityHost,
  network: { fetch: viaEmulator, retries: 0 },
  cache: { l2 },
  telemetry: { logger: { debug() {}, info() {}, warn() {}, error() {} } },
});

async function round(agents, scope) {
  const settled = await Promise.allSettled(agents.map((a) => blueprint.agent(a).getToken([scope])));
  let ok = 0;
  const failures = [];
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled' && r.value.subject === agents[i]) ok += 1;
    else
      failures.push(
        r.status === 'rejected'
          ? String(r.reason?.code ?? r.reason?.message ?? r.reason)
          : `wrong subject for ${agents[i]}`,
      );
  });
  return { ok, failures };
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'tokens') {
      const r = await round(msg.agents, msg.scope);
      process.send({ id: msg.id, ...r, store: blueprint.stats(), l2: l2.stats() });
    } else if (msg.cmd === 'loop') {
      let ok = 0;
      const failures = [];
      const roundMs = [];
      for (let i = 0; i < msg.rounds; i++) {
        const started = performance.now();
        // Drop every cached token (L1 and, when reachable, L2): each round misses again.
        await blueprint.invalidate('all').catch(() => undefined);
        const r = await round(msg.agents, msg.scope);
        ok += r.ok;
        failures.push(...r.failures);
        roundMs.push(Math.round(performance.now() - started));
        process.send({ id: msg.id, progress: i + 1 });
        if (msg.pauseMs) await new Promise((res) => setTimeout(res, msg.pauseMs));
      }
      process.send({
        id: msg.id,
        ok,
        failures,
        roundMs,
        store: blueprint.stats(),
        l2: l2.stats(),
        breaker: l2.breakerState,
      });
    } else if (msg.cmd === 'probe') {
      // One L2 read: lets a half-open breaker try Redis again.
      await l2.get('probe').catch(() => undefined);
      process.send({ id: msg.id, breaker: l2.breakerState });
    } else if (msg.cmd === 'close') {
      await l2.close();
      process.send({ id: msg.id, closed: true }, () => process.exit(0));
    }
  } catch (error) {
    process.send({ id: msg.id, error: String(error?.message ?? error) });
  }
});
if (cfg.coldAgents) {
  // A fresh process used at once: its Redis client is still connecting.
  const r = await round(cfg.coldAgents, cfg.scope);
  process.send({ ready: true, cold: { ...r, store: blueprint.stats(), l2: l2.stats() } });
} else {
  process.send({ ready: true });
}
