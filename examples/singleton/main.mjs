// Singleton: one blueprint, one agent identity acting as itself (legs 1-2).
// Real tenant: AZURE_TENANT_ID, AZURE_CLIENT_ID, a credential (see ../lib/setup.mjs), MAIL_AGENT_ID, RESOURCE (e.g. https://graph.microsoft.com).
import { describe, setup } from '../lib/setup.mjs';

const s = await setup();
const agent = s.blueprint().agent(s.ids.MAIL_AGENT_ID);
const token = await agent.getToken([`${process.env.RESOURCE ?? 'api://tools'}/.default`]);
console.log(`singleton agent: ${describe(token)}`);
await s.close();
