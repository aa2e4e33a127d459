// Scenario 6: the sidecar. Requests/s and p50/p99 of /AuthorizationHeaderUnauthenticated at cache hit
// on loopback (autocannon, separate connections), beside the in-process call it wraps.
import autocannon from 'autocannon';
import { DEMO } from '@agentid/emulator';
import { startSidecar } from '../lib/sidecar.mjs';
import { emit, perOp, quick } from '../lib/measure.mjs';

const duration = quick ? 2 : 8;
const { sidecar, url, path, close } = await startSidecar();
const target = url + path;

const run = (connections) =>
  new Promise((resolve, reject) => {
    autocannon({ url: target, connections, duration }, (err, r) =>
      err
        ? reject(err)
        : resolve({
            connections,
            rps: r.requests.average,
            p50_ms: r.latency.p50,
            p99_ms: r.latency.p99,
            non2xx: r.non2xx,
            errors: r.errors,
          }),
    );
  });
await run(8); // warm-up (JIT), discarded
const http = [await run(1), await run(32)];
const agent = sidecar.blueprint.agent(DEMO.agents.reporter);
const inProcess = await perOp(() => agent.getToken(['api://reports/.default']), {
  ops: quick ? 5_000 : 20_000,
});
await close();
emit({
  scenario: 6,
  name: 'sidecar /AuthorizationHeaderUnauthenticated at cache hit (autocannon, loopback)',
  http,
  in_process_us: inProcess,
});
