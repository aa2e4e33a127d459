// The sidecar both sidecar scenarios measure: the demo workers blueprint on an in-process emulator,
// one API profile (`reports`), agent parameters allowed on /AuthorizationHeaderUnauthenticated, and
// the path of a warm autonomous header request (checked to answer 200 before it is returned).
import { createEmulator, DEMO } from '@agentid/emulator';
import { createSidecar, loadSidecarConfig } from '@agentid/sidecar';

export async function startSidecar() {
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
  const path = `/AuthorizationHeaderUnauthenticated/reports?AgentIdentity=${DEMO.agents.reporter}&optionsOverride.RequestAppToken=true`;
  const first = await fetch(url + path);
  if (first.status !== 200) throw new Error(`sidecar answered ${first.status}`);
  return {
    sidecar,
    url,
    path,
    first,
    close: async () => {
      await sidecar.close();
      await emu.close();
    },
  };
}
