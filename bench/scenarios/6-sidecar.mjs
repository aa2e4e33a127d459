// Scenario 6: the sidecar. Requests/s and p50/p99 of /AuthorizationHeaderUnauthenticated at cache hit
// on loopback (autocannon, separate connections), beside the in-process call it wraps.
import autocannon from 'autocannon';
import { createEmulator, DEMO } from '@agentid/emulator';
import { createSidecar, loadSidecarConfig } from '@agentid/sidecar';
import { emit, perOp, quick } from '../lib/measure.mjs';

const duration = quick ? 2 : 8;
const emu = await createEmulator();
const W = DEMO.blueprints.workers;
const config = loadSidecarConfig({
  env: {
    AzureAd__Instance: emu.baseUrl,
    AzureAd__TenantId: DEMO.tenantId,
    AzureAd__ClientId: W.appId,
    AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
    AzureAd__ClientCredentials__0__ClientSecret: W.secret,
    DownstreamApis__reports__Scopes__0: 'api://reports/.default',
    Sidecar__AllowOverrides__GetAuthorizationHeaderUnauthenticated: 'true',
    AgentId__Listen__Port: '0',
  },
});
const sidecar = createSidecar(config, { fetch: emu.fetch });
const { url } = await sidecar.listen();
const target = `${url}/AuthorizationHeaderUnauthenticated/reports?AgentIdentity=${DEMO.agents.reporter}&optionsOverride.RequestAppToken=true`;
const first = await fetch(target);
if (first.status !== 200) throw new Error(`sidecar answered ${first.status}`);

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
await sidecar.close();
await emu.close();
emit({
  scenario: 6,
  name: 'sidecar /AuthorizationHeaderUnauthenticated at cache hit (autocannon, loopback)',
  http,
  in_process_us: inProcess,
});
