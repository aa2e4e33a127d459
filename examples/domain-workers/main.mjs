// Domain workers sharing one blueprint: one credential, several agents, each with its own tokens.
// Real tenant: as singleton, plus MAIL_AGENT_ID, CALENDAR_AGENT_ID, REPORTER_AGENT_ID.
import { describe, setup } from '../lib/setup.mjs';

const s = await setup();
const bp = s.blueprint();
for (const [name, id] of [
  ['mail', s.ids.MAIL_AGENT_ID],
  ['calendar', s.ids.CALENDAR_AGENT_ID],
  ['reporter', s.ids.REPORTER_AGENT_ID],
]) {
  const t = await bp.agent(id).getToken([`${process.env.RESOURCE ?? 'api://reports'}/.default`]);
  console.log(`${name} worker: ${describe(t)}`);
}
console.log(`one blueprint credential, ${bp.stats().size} tokens cached for 3 agents`);
await s.close();
