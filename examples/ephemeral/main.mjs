// Ephemeral identity: an agent identity created for one task and always deleted afterwards.
// Real tenant: AZURE_CLIENT_ID (with Graph AgentIdentity.CreateAsManager), SPONSOR_ID, RESOURCE.
import { withEphemeralAgent } from '@agentid/agent-user';
import { describe, setup } from '../lib/setup.mjs';

const s = await setup();
const bp = s.blueprint('workers');
const summary = await withEphemeralAgent(
  bp,
  {
    displayName: `one-off ${new Date().toISOString()}`,
    sponsors: [s.ids.SPONSOR_ID],
    ...(s.graphBaseUrl ? { graphBaseUrl: s.graphBaseUrl } : {}),
  },
  async (agent) => {
    const t = await agent.getToken([`${process.env.RESOURCE ?? 'api://reports'}/.default`]);
    return `ephemeral agent ${agent.id}: ${describe(t)}`;
  },
);
console.log(`${summary} — deleted after the work`);
await s.close();
