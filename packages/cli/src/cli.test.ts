import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './index.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await createEmulator();
});
afterAll(() => emu.close());

async function run(argv: string[], env: Record<string, string> = {}, stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    env,
    readStdin: async () => stdin,
  });
  return { code, out: out.join(''), err: err.join('') };
}

describe('agentid decode', () => {
  it('explains an autonomous agent token, an agent OBO token and an agent user token', async () => {
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: DEMO.blueprints.workers.appId,
      credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const auto = (await bp.agent(DEMO.agents.reporter).getToken(['api://reports/.default'])).token;
    const r = await run(['decode', auto, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      verified: false,
      tokenType: 'app',
      subject: { id: DEMO.agents.reporter, kind: 'agent identity (acting as itself)' },
      actor: { id: DEMO.agents.reporter, kind: 'agent identity' },
      parentBlueprint: DEMO.blueprints.workers.appId,
      roles: ['Reports.Generate'],
    });
    const { agentUser } = await import('@agentid/agent-user');
    const au = (
      await agentUser(bp.agent(DEMO.agents.digitalWorker), {
        upn: DEMO.agentUsers.digitalWorker.upn,
      }).getToken(['api://tools/Mail.Read'])
    ).token;
    const text = await run(['decode', '-'], {}, `Bearer ${au}\n`);
    expect(text.code).toBe(0);
    expect(text.out).toContain('Decoded WITHOUT signature verification');
    expect(text.out).toContain(`subject    ${DEMO.agentUsers.digitalWorker.id} (agent user`);
    expect(text.out).toContain(`actor      ${DEMO.agents.digitalWorker} (agent identity)`);
    expect(text.out).not.toContain(au.split('.')[2]);
    const long = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${DEMO.blueprints.orchestrator.appId}/access_agent`],
      lifetimeSec: 86_400,
    });
    const l = await run(['decode', long]);
    expect(l.out).toContain(
      'subject    a11ce000-0000-4000-8000-000000000001 (user, alice@contoso.onmicrosoft.com)',
    );
    expect(l.out).toMatch(/WARNING +lives 1440 min: longer than 1 h/);
  });

  it('answers garbage and usage mistakes with a clear message and exit code 2, never a stack', async () => {
    for (const argv of [
      ['decode', 'not-a-jwt'],
      ['decode'],
      ['decode', 'a', 'b'],
      ['decode', '--nope', 'x'],
      ['frobnicate'],
      [],
      ['emulator', '--port', '8443', '--https-port', '8444'],
      ['emulator', '--port', 'x'],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err + r.out).not.toMatch(/\n\s+at /);
    }
  });
});

describe('agentid token', () => {
  it('gets a token from the in-process emulator and prints a summary, never the token', async () => {
    const r = await run([
      'token',
      '--emulator',
      '--agent',
      DEMO.agents.mail,
      '--scope',
      'api://tools/.default',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({
      subject: DEMO.agents.mail,
      actor: DEMO.agents.mail,
      idtyp: 'app',
      roles: ['Mail.Send.All'],
      tokenEndpointRequests: { leg1: 1, leg2: 1 },
    });
    expect(r.out).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
    const p = await run([
      'token',
      '--emulator',
      '--agent',
      DEMO.agents.mail,
      '--scope',
      'api://tools/.default',
      '--print-token',
    ]);
    expect(p.out.trim()).toMatch(/^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const env = await run(
      [
        'token',
        '--emulator',
        '--agent',
        DEMO.agents.mail,
        '--scope',
        'api://tools/.default',
        '--secret-env',
        'BP_SECRET',
      ],
      { BP_SECRET: DEMO.blueprints.workers.secret },
    );
    expect(env.code).toBe(0);
    expect(env.out).toContain(`subject   ${DEMO.agents.mail} (idtyp=app)`);
    expect(env.out).not.toContain(DEMO.blueprints.workers.secret);
  });

  it('reads the AZURE_* variables; BLUEPRINT_CLIENT_ID and AGENTID_AUTHORITY_HOST still work, with a warning', async () => {
    const args = [
      'token',
      '--emulator',
      '--agent',
      DEMO.agents.orchestrator,
      '--scope',
      'api://tools/.default',
    ];
    const orchestrator = DEMO.blueprints.orchestrator.appId;
    const azure = await run([...args, '--json'], { AZURE_CLIENT_ID: orchestrator });
    expect(azure.code, azure.err).toBe(0);
    expect(JSON.parse(azure.out)).toMatchObject({
      subject: DEMO.agents.orchestrator,
      parentBlueprint: orchestrator,
    });
    expect(azure.err).toBe('');
    const old = await run([...args, '--json'], { BLUEPRINT_CLIENT_ID: orchestrator });
    expect(old.code, old.err).toBe(0);
    expect(old.err).toBe('agentid token: BLUEPRINT_CLIENT_ID is deprecated: use AZURE_CLIENT_ID\n');
    // The environment's secret is the credential (a wrong one is refused), never printed.
    const secret = await run(args, { AZURE_CLIENT_ID: orchestrator, AZURE_CLIENT_SECRET: 'not-the-secret' });
    expect(secret.code).toBe(1);
    expect(secret.err).toMatch(/AGENTID_INVALID_CLIENT/);
    expect(secret.err).not.toContain('not-the-secret');
    const host = await run(['token', '--agent', 'a', '--scope', 'x/.default'], {
      AZURE_TENANT_ID: DEMO.tenantId,
      AZURE_CLIENT_ID: orchestrator,
      AZURE_CLIENT_SECRET: 's',
      AGENTID_AUTHORITY_HOST: 'http://insecure.example',
    });
    expect(host.code).toBe(1);
    expect(host.err).toMatch(/AGENTID_AUTHORITY_HOST is deprecated: use AZURE_AUTHORITY_HOST/);
    expect(host.err).toMatch(/from AGENTID_EMULATOR or AZURE_AUTHORITY_HOST.*authorityHost must use https/);
  });

  it('fails with a typed code or a usage message', async () => {
    const unknown = await run([
      'token',
      '--emulator',
      '--agent',
      '00000000-0000-4000-8000-00000000beef',
      '--scope',
      'api://tools/.default',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/agentid token: AGENTID_[A-Z_]+: /);
    const scope = await run(['token', '--emulator', '--agent', DEMO.agents.mail, '--scope', 'Mail.Read']);
    expect(scope.code).toBe(1);
    expect(scope.err).toContain('AGENTID_INVALID_OPTIONS');
    expect((await run(['token', '--emulator', '--scope', 'x/.default'])).code).toBe(2);
    expect((await run(['token', '--agent', 'a', '--scope', 'x/.default'])).code).toBe(2);
    expect(
      (
        await run([
          'token',
          '--emulator',
          '--agent',
          DEMO.agents.mail,
          '--scope',
          'api://tools/.default',
          '--secret',
          'inline',
        ])
      ).code,
    ).toBe(2);
  });
});

describe('the agentid bin', () => {
  it('runs from its shebang (built package)', () => {
    const root = new URL('../../../', import.meta.url).pathname;
    for (const pkg of ['emulator', 'core', 'obo', 'agent-user', 'cli']) {
      if (!existsSync(`${root}packages/${pkg}/dist/index.js`))
        execFileSync(
          process.execPath,
          [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}packages/${pkg}/tsconfig.build.json`],
          { stdio: 'inherit' },
        );
    }
    const bin = `${root}packages/cli/dist/bin.js`;
    // `npm run build` (which CI runs first) makes the bin executable; without a build, build it here.
    if (!existsSync(bin))
      execFileSync('npm', ['run', 'build', '-w', '@agentid/cli'], { cwd: root, stdio: 'inherit' });
    const r = spawnSync(bin, ['decode', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: agentid decode');
    const v = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(v.stdout.trim()).toBe('0.1.0');
  });
});
