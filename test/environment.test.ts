// Done when (#22): a fresh app, given only the environment `agentid emulator` prints (Azure's own
// variable names), gets agent tokens with `blueprintFromEnvironment()` + `agent(id).getToken()`
// and nothing else. Built packages, as a user runs them (`npm run build` first).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { DEMO } from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url).pathname;
const APP = `import { blueprintFromEnvironment } from '@agentid/core';
const t = await blueprintFromEnvironment().agent('${DEMO.agents.mail}').getToken(['api://tools/.default']);
console.log(JSON.stringify({ subject: t.subject, actor: t.actor, blueprint: t.claims?.parentAppId }));`;

let emulator: ChildProcess;
let printed: Record<string, string>;
let port: number;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });

beforeAll(async () => {
  for (const pkg of ['core', 'emulator', 'cli'])
    if (!existsSync(`${root}packages/${pkg}/dist/index.js`))
      throw new Error(`build first: npm run build -w packages/${pkg}`);
  port = await freePort();
  emulator = spawn(
    process.execPath,
    [`${root}packages/cli/bin/agentid.js`, 'emulator', '--port', String(port), '--no-http'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  printed = await new Promise<Record<string, string>>((resolve, reject) => {
    emulator.once('exit', (code) => reject(new Error(`agentid emulator exited (${code}): ${out}`)));
    emulator.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // The export lines come last.
      if (!/export AZURE_AUTHORITY_HOST=.*\n/.test(out)) return;
      const env: Record<string, string> = {};
      for (const m of out.matchAll(/^\s+export ([A-Z_]+)=(\S+)$/gm)) env[m[1]!] = m[2]!;
      resolve(env);
    });
  });
}, 60_000);
afterAll(() => {
  emulator?.kill('SIGTERM');
});

const runApp = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', APP], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('a fresh app configured by the environment alone', () => {
  it('agentid emulator prints the export lines of the fixed port it was given', () => {
    expect(printed).toMatchObject({
      AGENTID_EMULATOR: `https://localhost:${port}`,
      AZURE_AUTHORITY_HOST: `https://localhost:${port}`,
      AZURE_TENANT_ID: DEMO.tenantId,
      AZURE_CLIENT_ID: DEMO.blueprints.workers.appId,
      AZURE_CLIENT_SECRET: DEMO.blueprints.workers.secret,
      NODE_EXTRA_CA_CERTS: expect.stringMatching(/agentid-emulator-\w+\/ca\.pem$/),
    });
  });

  it("with Azure's variables only (no agentid one): an agent token, and the secret warned as development only", () => {
    const { AGENTID_EMULATOR: _, ...azure } = printed;
    expect(Object.keys(azure).sort()).toEqual([
      'AZURE_AUTHORITY_HOST',
      'AZURE_CLIENT_ID',
      'AZURE_CLIENT_SECRET',
      'AZURE_TENANT_ID',
      'NODE_EXTRA_CA_CERTS',
    ]);
    const r = runApp(azure);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      subject: DEMO.agents.mail,
      actor: DEMO.agents.mail,
      blueprint: DEMO.blueprints.workers.appId,
    });
    expect(r.stderr).toMatch(/AgentIdWarning: AZURE_CLIENT_SECRET is for development only/);
    expect(r.stderr + r.stdout).not.toContain(DEMO.blueprints.workers.secret);
  });

  it('with AGENTID_EMULATOR (and the CA) alone: the demo tenant and blueprint, no warning', () => {
    const r = runApp({
      AGENTID_EMULATOR: printed.AGENTID_EMULATOR!,
      NODE_EXTRA_CA_CERTS: printed.NODE_EXTRA_CA_CERTS!,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ subject: DEMO.agents.mail });
    expect(r.stderr).toBe('');
  });

  it('without the CA, the failure says so (a typed network error), with no secret', () => {
    const r = runApp({ AGENTID_EMULATOR: printed.AGENTID_EMULATOR! });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NODE_EXTRA_CA_CERTS is not/);
    expect(r.stderr).toMatch(/code: 'AGENTID_NETWORK'/);
    expect(r.stderr).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(r.stderr).not.toContain(DEMO.blueprints.workers.secret);
  });
});
