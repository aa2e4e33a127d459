// Scenario 4: mixed load over a simulated hour (injected clock): 10k users × 3 tools, Zipf-distributed,
// tokens expiring and refreshed ahead; token-endpoint requests, latency percentiles, memory per token.
import { createBlueprint, secretCredential } from '@agentid/core';
import { DEMO } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import { createFakeNetwork, BASE, TENANT, userAssertion } from '../lib/fake-network.mjs';
import { emit, quick } from '../lib/measure.mjs';

const USERS = quick ? 1_000 : 10_000;
const REQUESTS = quick ? 20_000 : 200_000;
const TOOLS = [['api://tools/Mail.Read'], ['api://tools/Mail.Send'], ['api://tools/Calendars.Read']];
let clockMs = Date.parse('2026-11-25T09:00:00Z');
const clock = { now: () => clockMs };
const net = createFakeNetwork({ now: () => clockMs, lifetimeSec: 3600 });
const aud = DEMO.blueprints.workers.appId;
const bp = createBlueprint({
  tenantId: TENANT,
  clientId: aud,
  credential: secretCredential('bench-secret', { silenceWarning: true }),
  authorityHost: BASE,
  clock,
  network: { fetch: net.fetch },
  cache: { l1: { maxEntries: USERS * 3 + 100, maxBytes: 2 * 1024 * 1024 * 1024 } },
});
const agent = bp.agent(DEMO.agents.mail);
// User tokens are re-issued every 50 minutes (a new assertion per session), as clients do.
const assertionOf = new Map();
const assertion = (u) => {
  const epoch = Math.floor(clockMs / 3_000_000);
  const k = `${u}:${epoch}`;
  let a = assertionOf.get(k);
  if (!a) {
    a = userAssertion(u, aud, clockMs);
    assertionOf.set(k, a);
  }
  return a;
};
// Zipf(s=1) over users.
const harmonic = Array.from({ length: USERS }, (_, i) => 1 / (i + 1));
const total = harmonic.reduce((a, b) => a + b, 0);
const cdf = [];
let acc = 0;
for (let i = 0; i < USERS; i++) cdf[i] = (acc += harmonic[i]) / total;
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = () => {
  const r = rand();
  let lo = 0;
  let hi = USERS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const lat = [];
const stepMs = 3_600_000 / REQUESTS;
for (let i = 0; i < REQUESTS; i++) {
  clockMs += stepMs;
  const u = pick();
  const t0 = process.hrtime.bigint();
  await onBehalfOf(agent, assertion(u), TOOLS[i % 3]);
  lat.push(Number(process.hrtime.bigint() - t0) / 1000);
}
await new Promise((r) => setTimeout(r, 50));
assertionOf.clear();
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
const size = bp.stats().size;
emit({
  scenario: 4,
  name: `mixed: ${USERS} users × 3 tools, Zipf, simulated hour, ${REQUESTS} requests`,
  requests: { ...net.counts },
  stats: bp.stats(),
  p50_us: q(0.5),
  p99_us: q(0.99),
  max_us: lat[lat.length - 1],
  cached_tokens: size,
  bytes_per_cached_token: globalThis.gc ? Math.round((heapAfter - heapBefore) / Math.max(1, size)) : null,
});
