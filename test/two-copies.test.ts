// Two copies of @agentid/core in one app (a common npm outcome: a package resolves its own copy):
// a blueprint and agents made by one copy work with the sibling packages that loaded the other.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Core from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { agentUser } from '@agentid/agent-user';
import { onBehalfOf, validatorForBlueprint } from '@agentid/obo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
// Inside node_modules, so that the copy resolves MSAL, jose, ... as an installed package would.
const copyDir = join(root, 'node_modules', '.cache', 'agentid-two-copies', 'core');
const O = DEMO.blueprints.orchestrator;
let emu: Emulator;
let other: typeof Core;

beforeAll(async () => {
  const dist = join(root, 'packages', 'core', 'dist');
  if (!existsSync(join(dist, 'index.js')))
    throw new Error('packages/core/dist is missing: run `npm run build` first');
  rmSync(copyDir, { recursive: true, force: true });
  mkdirSync(copyDir, { recursive: true });
  cpSync(dist, join(copyDir, 'dist'), { recursive: true });
  writeFileSync(
    join(copyDir, 'package.json'),
    JSON.stringify({ name: 'agentid-core-copy', type: 'module', exports: { '.': './dist/index.js' } }),
  );
  other = (await import(pathToFileURL(join(copyDir, 'dist', 'index.js')).href)) as typeof Core;
  emu = await createEmulator();
});
afterAll(async () => {
  await emu?.close();
  rmSync(copyDir, { recursive: true, force: true });
});

describe('two copies of @agentid/core', () => {
  it('is really another copy (its classes are not ours)', async () => {
    const ours = await import('@agentid/core');
    expect(other.createBlueprint).not.toBe(ours.createBlueprint);
  });

  it('errors of the other copy are `instanceof` ours and isAgentIdError, both ways', async () => {
    const ours = await import('@agentid/core');
    const theirs = new other.OAuthError('AGENTID_INVALID_GRANT', 'refused', { status: 400 });
    expect(theirs).toBeInstanceOf(ours.AgentIdError);
    expect(theirs).toBeInstanceOf(ours.OAuthError);
    expect(theirs).not.toBeInstanceOf(ours.ConfigurationError);
    expect(ours.isAgentIdError(theirs, 'AGENTID_INVALID_GRANT')).toBe(true);
    const mine = new ours.ConfigurationError('bad');
    expect(mine).toBeInstanceOf(other.AgentIdError);
    expect(other.isAgentIdError(mine)).toBe(true);
    expect(new Error('plain')).not.toBeInstanceOf(ours.AgentIdError);
    // A failure the other copy throws reaches our code as a typed error.
    const bp = other.createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: other.secretCredential('wrong', { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const failure = await bp
      .agent(DEMO.agents.orchestrator)
      .getToken(['api://tools/.default'])
      .catch((e: unknown) => e);
    expect(ours.isAgentIdError(failure, 'AGENTID_INVALID_CLIENT')).toBe(true);
  });

  it('validatorForBlueprint, onBehalfOf and agentUser accept a blueprint and agents of the other copy', async () => {
    const bp = other.createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: other.secretCredential(O.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const userToken = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    const principal = await validatorForBlueprint(bp).validate(userToken);
    const agent = bp.agent(DEMO.agents.orchestrator);
    const token = await onBehalfOf(agent, userToken, ['api://tools/Files.Read'], { principal });
    expect(token.subject?.toLowerCase()).toBe(principal.oid.toLowerCase());
    // Served from the other copy's cache the second time: one OBO request.
    await onBehalfOf(agent, userToken, ['api://tools/Files.Read'], { principal });
    expect(emu.counters.tokenRequests('obo')).toBe(1);
    expect(() => agentUser(agent, { upn: 'worker@contoso.com' })).not.toThrow();
  });
});
