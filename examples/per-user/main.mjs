// Per-user agents: one agent acting for many users; every user gets their own cached token.
// Real tenant: AZURE_CLIENT_ID, MAIL_AGENT_ID, USER_ACCESS_TOKEN (one user; the emulator uses two).
import { onBehalfOf } from '@agentid/obo';
import { describe, real, setup } from '../lib/setup.mjs';

const s = await setup();
const bp = s.blueprint('workers');
const agent = bp.agent(s.ids.MAIL_AGENT_ID);
const users = real
  ? [await s.userToken()]
  : [await s.userToken(s.ids.users.alice.upn, 'workers'), await s.userToken(s.ids.users.bob.upn, 'workers')];
for (const u of users) {
  const t = await onBehalfOf(agent, u, [process.env.TOOL_SCOPE ?? 'api://tools/Mail.Read']);
  const again = await onBehalfOf(agent, u, [process.env.TOOL_SCOPE ?? 'api://tools/Mail.Read']);
  console.log(`for user ${t.subject}: ${describe(t)} (second call from cache: ${again.token === t.token})`);
}
await s.close();
