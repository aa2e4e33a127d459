// Orchestrator across blueprints: the orchestrator validates the user's token, exchanges it on the
// user's behalf for the workers blueprint, and the sub-agent exchanges onward for a tool, with a
// signed chain of actors between them.
// Real tenant: ORCHESTRATOR_BLUEPRINT_CLIENT_ID, ORCHESTRATOR_AGENT_ID, AZURE_CLIENT_ID (workers), MAIL_AGENT_ID, USER_ACCESS_TOKEN, TOOL_SCOPE, DELEGATION_KEY (32+ bytes).
import { randomBytes } from 'node:crypto';
import { decodeJwtClaims } from '@agentid/core';
import {
  appendActor,
  createDelegationCodec,
  onBehalfOf,
  startDelegation,
  validatorForBlueprint,
} from '@agentid/obo';
import { describe, setup } from '../lib/setup.mjs';

const s = await setup();
const orchestrator = s.blueprint('orchestrator');
const workers = s.blueprint('workers');
const codec = createDelegationCodec({
  keys: [{ kid: 'k1', secret: process.env.DELEGATION_KEY ?? randomBytes(32) }],
});
const userToken = await s.userToken();
const user = await validatorForBlueprint(orchestrator).validate(userToken);
const chain = appendActor(startDelegation(user), orchestrator.agent(s.ids.ORCHESTRATOR_AGENT_ID));
const hop1 = await onBehalfOf(
  orchestrator.agent(s.ids.ORCHESTRATOR_AGENT_ID),
  userToken,
  [`api://${workers.clientId}/access_agent`],
  { principal: user, delegation: chain },
);
console.log(`orchestrator → sub-agent: ${describe(hop1)}`);
const header = await codec.encode(chain, hop1.token);
// ... the sub-agent receives hop1 + header:
const seen = await validatorForBlueprint(workers).validate(hop1.token);
const chain2 = appendActor(await codec.decode(header, seen, hop1.token), workers.agent(s.ids.MAIL_AGENT_ID));
const hop2 = await onBehalfOf(
  workers.agent(s.ids.MAIL_AGENT_ID),
  hop1.token,
  [process.env.TOOL_SCOPE ?? 'api://tools/Mail.Send'],
  { principal: seen, delegation: chain2 },
);
console.log(`sub-agent → tool: ${describe(hop2)}; chain ${chain2.actors.join(' > ')}`);
// The header the tool gets: the subject, and the actors as RFC 8693 nested act (outermost = current).
const { sub, sub_profile, act } = decodeJwtClaims(await codec.encode(chain2, hop2.token));
console.log(JSON.stringify({ sub, sub_profile, act }, null, 2));
await s.close();
