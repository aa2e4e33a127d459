// The sidecar as users run it: its own bin in separate processes, configured by environment
// variables, the emulator over HTTPS (trusted with NODE_EXTRA_CA_CERTS), two processes sharing one
// real redis-server. Uses the built packages: `npm run build` first.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decodeJwtClaims } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type TestRedis } from '@agentid/test-support/redis';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
let emu: Emulator;
let redis: TestRedis;
let issuer: string;
let caPath: string;
const key = randomBytes(32).toString('base64');
const children: ChildProcess[] = [];

async function startProcess(
  bin: string,
  args: string[] = [],
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const port = await freePort();
  const { NODE_OPTIONS: _omit, ...env } = process.env;
  const child = spawn(process.execPath, [bin, ...args], {
    env: {
      ...env,
      NODE_EXTRA_CA_CERTS: caPath,
      AzureAd__Instance: issuer,
      AzureAd__TenantId: DEMO.tenantId,
      AzureAd__ClientId: DEMO.blueprints.workers.appId,
      AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
      AzureAd__ClientCredentials__0__ClientSecret: DEMO.blueprints.workers.secret,
      DownstreamApis__reports__Scopes__0: 'api://reports/.default',
      Sidecar__AllowOverrides__GetAuthorizationHeaderUnauthenticated: 'true',
      AgentId__Redis__Url: redis.url,
      AgentId__Redis__EncryptionKey: key,
      AgentId__Listen__Port: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`sidecar exited: ${out}`);
    if (out.includes('listening on')) return { url, child, output: () => out };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sidecar did not start: ${out}`);
}

beforeAll(async () => {
  redis = await startRedis();
  emu = await createEmulator();
  const listening = await emu.listen({ http: false });
  issuer = listening.httpsUrl!;
  caPath = listening.caPath!;
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await emu.close();
  await redis.stop();
});

describe('sidecar processes', () => {
  it('two sidecar processes sharing one Redis: one token request per leg for a cold key; graceful SIGTERM', async () => {
    const [a, b] = await Promise.all([startProcess(BIN), startProcess(CLI, ['sidecar'])]);
    // Let both Redis clients connect.
    await new Promise((r) => setTimeout(r, 300));
    const agent = emu.directory.createAgentIdentity(DEMO.tenantId, {
      blueprintAppId: DEMO.blueprints.workers.appId,
      sponsors: [DEMO.users.sponsor.id],
    }).id;
    emu.counters.reset();
    const q = `/AuthorizationHeaderUnauthenticated/reports?AgentIdentity=${agent}&optionsOverride.RequestAppToken=true`;
    const answers = await Promise.all(
      [a, b, a, b, a, b].map(
        async (s) => (await fetch(s.url + q)).json() as Promise<{ authorizationHeader: string }>,
      ),
    );
    const tokens = new Set(answers.map((x) => x.authorizationHeader));
    expect(tokens.size).toBe(1);
    expect(decodeJwtClaims([...tokens][0]!.slice(7)).oid).toBe(agent);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    // No token in what either process printed.
    expect(a.output() + b.output()).not.toContain('eyJ');
    // SIGTERM: both close gracefully (exit code 0).
    const exits = [a, b].map(
      (s) => new Promise<number | null>((r) => s.child.once('exit', (code) => r(code))),
    );
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await Promise.all(exits)).toEqual([0, 0]);
  }, 60_000);

  it('a bad configuration stops the bin with a clear message and exit code 1', async () => {
    const { NODE_OPTIONS: _omit, ...env } = process.env;
    const child = spawn(process.execPath, [BIN], {
      env: { ...env, AzureAd__TenantId: '', AzureAd__ClientId: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(err).toMatch(/AzureAd:TenantId is required/);
  });
});
