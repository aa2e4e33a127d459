// Two tenants: one multi-tenant blueprint (an ISV's), its agents in two customer tenants that have
// added it (admin consent: a blueprint principal in each). Agent identities are single-tenant:
// every flow runs as the agent identity of the tenant it serves, and leg 1 goes to that tenant.
// Runs on the embedded emulator (its multi-tenant seed): `node examples/two-tenant/main.mjs`.
import { agentUser } from '@agentid/agent-user';
import { createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, CUSTOMERS, DEMO, multiTenantSeed } from '@agentid/emulator';
import { onBehalfOf, validatorForBlueprint } from '@agentid/obo';
import { describe } from '../lib/setup.mjs';

const emu = await createEmulator({ seed: multiTenantSeed() });
const customers = [CUSTOMERS.fabrikam, CUSTOMERS.northwind];
const blueprint = createBlueprint({
  tenantId: DEMO.tenantId, // the blueprint's home tenant
  clientId: DEMO.blueprints.workers.appId,
  credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
  authorityHost: emu.baseUrl,
  network: { fetch: emu.fetch },
  allowedTenants: customers.map((c) => c.tenantId),
});
// Accepts users of the blueprint's tenants, each token with its own tenant's issuer.
const validator = validatorForBlueprint(blueprint);

for (const c of customers) {
  const agent = blueprint.agent(c.agent, { tenantId: c.tenantId });
  const app = await agent.getToken(['api://tools/.default']);
  if (app.claims?.tid !== c.tenantId) throw new Error('a token of another tenant');
  console.log(`${c.domain} agent as itself: ${describe(app)} tid=${app.claims?.tid}`);

  // A user of this tenant signs in; the agent of the user's tenant acts for them.
  const userToken = await emu.issueUserToken({
    user: c.user.upn,
    tenantId: c.tenantId,
    clientId: c.chatApp,
    scopes: [`api://${DEMO.blueprints.workers.appId}/access_agent`],
  });
  const principal = await validator.validate(userToken);
  const forUser = blueprint.agent(c.agent, { tenantId: principal.tid });
  const obo = await onBehalfOf(forUser, userToken, ['api://tools/Mail.Read'], { principal });
  console.log(`${c.domain} agent for its user: ${describe(obo)} tid=${obo.claims?.tid}`);

  const worker = await agentUser(agent, { objectId: c.agentUser.id }).getToken(['api://tools/Mail.Read']);
  console.log(`${c.domain} agent as its agent user: ${describe(worker)} tid=${worker.claims?.tid}`);
}

// An agent identity exists in one tenant only: asked for in the other, Entra answers AADSTS700211.
const wrong = await blueprint
  .agent(CUSTOMERS.fabrikam.agent, { tenantId: CUSTOMERS.northwind.tenantId })
  .getToken(['api://tools/.default'])
  .catch((e) => e);
console.log(`fabrikam's agent asked for in northwind: ${wrong.code} (AADSTS${wrong.aadsts})`);
await emu.close();
