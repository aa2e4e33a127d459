// Long-running work for a user: a user's request starts a background job that finishes two hours
// later, after the user's one-hour token expired, still acting for that user. The agent's OBO
// session refreshes with its refresh token and T1 (PROTOCOL.md, agent on-behalf-of).
// On the emulator the two hours pass on a manual clock shared by the emulator and the blueprint.
// Real tenant: BLUEPRINT_CLIENT_ID, ORCHESTRATOR_AGENT_ID, USER_ACCESS_TOKEN, JOB_DELAY_MS (real time).
import { createServer } from 'node:http';
import { createManualClock } from '@agentid/core/broker';
import { createOboSessions, parseAuthorizationHeader, validatorForBlueprint } from '@agentid/obo';
import { describe, real, setup } from '../lib/setup.mjs';

const TWO_HOURS = 2 * 3_600_000;
const clock = real ? undefined : createManualClock(Date.now());
const s = await setup({ clock });
const bp = s.blueprint('orchestrator');
const agent = bp.agent(s.ids.ORCHESTRATOR_AGENT_ID);
const validator = validatorForBlueprint(bp, clock ? { clock } : {});
const sessions = createOboSessions(bp, { maxSessionMs: 8 * 3_600_000 });
const scopes = [process.env.TOOL_SCOPE ?? 'api://tools/Files.Read'];
const jobs = new Map();

// The job: two hours of work, then a call to the tool as the user.
async function runJob(job) {
  if (clock) clock.advance(TWO_HOURS);
  else await new Promise((r) => setTimeout(r, Number(process.env.JOB_DELAY_MS ?? 0)));
  const expired = await validator.validate(job.userToken).then(
    () => false,
    (e) => e.code === 'AGENTID_TOKEN_EXPIRED',
  );
  const t = await job.session.getToken(scopes);
  console.log(
    `job ${job.id} finished ${clock ? 'two hours later' : 'later'} (user token expired: ${expired})`,
  );
  console.log(`  oid=${t.claims?.oid} azp=${t.claims?.azp} ${describe(t)}`);
  if (s.emu) console.log(`  refresh-token grants: ${s.emu.counters.snapshot().byGrant.refresh_token ?? 0}`);
  await job.session.end();
}

// The user's request: POST /reports with the user's bearer token; answers 202 at once.
const server = createServer(async (req, res) => {
  try {
    const bearer = parseAuthorizationHeader(req.headers.authorization);
    const principal = await validator.validate(bearer);
    const session = await sessions.start(agent, bearer, scopes, { principal });
    const job = { id: jobs.size + 1, session, userToken: bearer };
    jobs.set(job.id, runJob(job));
    console.log(
      `request from user ${principal.oid}: job ${job.id} started, session until ${session.endsAt.toISOString()}`,
    );
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ job: job.id }));
  } catch (e) {
    res
      .writeHead(e.status ?? 500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: e.code }));
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/reports`;
const answer = await fetch(url, {
  method: 'POST',
  headers: { authorization: `Bearer ${await s.userToken()}` },
});
console.log(`POST /reports -> ${answer.status} ${await answer.text()}`);
await Promise.all(jobs.values());
server.close();
await s.close();
