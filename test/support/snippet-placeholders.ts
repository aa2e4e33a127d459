// The placeholders README snippets may use without declaring them (CONTRIBUTING.md, "Code in
// READMEs"). test/readme-snippets.test.ts copies this module beside the snippets and runs it once,
// in the snippets' process, against the emulator that AGENTID_EMULATOR points at.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blueprintFromEnvironment, type Blueprint } from '@agentid/core';
import { DEMO } from '@agentid/emulator';

const emulator = process.env.AGENTID_EMULATOR!;

/** The blueprint the environment configures: `blueprintFromEnvironment()`. */
export const blueprint: Blueprint = blueprintFromEnvironment();
/** An agent identity of that blueprint (the demo's mail agent). */
export const agentId: string = DEMO.agents.mail;
/** An agent identity that has an agent user (the demo's helpdesk digital worker)... */
export const workerAgentId: string = DEMO.agents.digitalWorker;
/** ...and that agent user's UPN. */
export const workerUpn: string = DEMO.agentUsers.digitalWorker.upn;
/** A user that sponsors new agent identities. */
export const sponsorId: string = DEMO.users.sponsor.id;

const userToken = await fetch(`${emulator}/_emulator/tokens/user`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    user: DEMO.users.alice.upn,
    scopes: [`api://${blueprint.clientId}/access_agent`],
    clientId: DEMO.chatApp.appId,
  }),
}).then(async (r) => ((await r.json()) as { access_token: string }).access_token);

/** An incoming request to the agent: a signed-in user's token for `api://<blueprint>/access_agent`. */
export const req: { headers: IncomingHttpHeaders } = { headers: { authorization: `Bearer ${userToken}` } };

const api = createServer((_, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
api.unref();
/** A downstream API (it answers `{"ok":true}` to anything). */
export const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}/`;

/** A logger that keeps what it is given. */
export const log = {
  lines: [] as unknown[],
  info: (...a: unknown[]) => void log.lines.push(a),
  warn: (...a: unknown[]) => void log.lines.push(a),
  error: (...a: unknown[]) => void log.lines.push(a),
  debug: () => {},
};
