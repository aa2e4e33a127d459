// Digital worker: an agent acting as its own agent user (user_fic, three legs).
// Real tenant: AZURE_CLIENT_ID, DIGITAL_WORKER_AGENT_ID, AGENT_USER_UPN, TOOL_SCOPE (e.g. https://graph.microsoft.com/Mail.Read).
import { agentUser } from '@agentid/agent-user';
import { describe, setup } from '../lib/setup.mjs';

const s = await setup();
const worker = agentUser(s.blueprint('workers').agent(s.ids.DIGITAL_WORKER_AGENT_ID), {
  upn: s.ids.AGENT_USER_UPN,
});
const t = await worker.getToken([process.env.TOOL_SCOPE ?? 'api://tools/Mail.Read']);
console.log(`digital worker as its agent user: ${describe(t)}`);
await s.close();
