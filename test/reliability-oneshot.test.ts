// One-shot processes (a script, a cron job, `agentid token`) whose only work is one token request:
// a retry must keep them alive until they have the token or a typed error, never exit silently
// (Node's code 13, "unsettled top-level await", when the only pending timer is unref'd). Child
// processes run the built packages (`npm run build`) against the emulator served over HTTPS by
// this process, trusted with NODE_EXTRA_CA_CERTS.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const W = DEMO.blueprints.workers;
const SCOPE = 'api://reports/.default';
let emu: Emulator;
let httpsUrl: string;
let caPath: string;

// The script a user would write: nothing but `await agent.getToken()`.
const ONE_SHOT = `
import { createBlueprint, secretCredential } from '@agentid/core';
const e = process.env;
const blueprint = createBlueprint({
  tenantId: e.T_TENANT, clientId: e.T_BLUEPRINT, authorityHost: e.T_BASE,
  credential: secretCredential(e.T_SECRET, { silenceWarning: true }),
  /*NETWORK*/
});
const t = await blueprint.agent(e.T_AGENT).getToken([e.T_SCOPE]);
console.log('token subject=' + t.subject + ' actor=' + t.actor + ' expires=' + t.expiresOn.toISOString());
`;
// A fetch that holds no handle of its own (as an injected or queued one may): only the per-attempt
// timeout can end it.
const HANGING_FETCH = `network: { retries: 0, timeoutMs: 300, fetch: (_url, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason))) },`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

// Asynchronous on purpose: the emulator answers from this process's event loop.
function run(args: string[], env: Record<string, string>): Promise<Run> {
  const { NODE_OPTIONS: _omit, ...base } = process.env;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...base, NODE_EXTRA_CA_CERTS: caPath, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

const script = (base: string, network = ''): Promise<Run> =>
  run(['--input-type=module', '-e', ONE_SHOT.replace('/*NETWORK*/', network)], {
    T_BASE: base,
    T_TENANT: DEMO.tenantId,
    T_BLUEPRINT: W.appId,
    T_SECRET: W.secret,
    T_AGENT: DEMO.agents.mail,
    T_SCOPE: SCOPE,
  });

const cli = (base: string): Promise<Run> =>
  run(
    [
      CLI,
      'token',
      '--agent',
      DEMO.agents.calendar,
      '--scope',
      SCOPE,
      '--tenant',
      DEMO.tenantId,
      '--blueprint',
      W.appId,
      '--authority-host',
      base,
      '--secret-env',
      'T_SECRET',
    ],
    {
      T_SECRET: W.secret,
    },
  );

async function closedPortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}

// One 503 on leg 1 and one 429 with Retry-After on leg 2: two retry waits on the way to the token.
function injectRetries(): void {
  emu.faults.add({ kind: 'status', status: 503, grant: 'leg1', times: 1 });
  emu.faults.add({ kind: 'status', status: 429, retryAfterSec: 1, grant: 'leg2', times: 1 });
}

beforeAll(async () => {
  emu = await createEmulator();
  const l = await emu.listen({ http: false });
  httpsUrl = l.httpsUrl!;
  caPath = l.caPath!;
});
afterEach(() => {
  emu.faults.clear();
  emu.counters.reset();
});
afterAll(() => emu.close());

describe('a one-shot script whose only work is await agent.getToken()', () => {
  it('survives a 503 and a 429 with Retry-After: exits 0 and prints the token summary', async () => {
    injectRetries();
    const r = await script(httpsUrl);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`token subject=${DEMO.agents.mail} actor=${DEMO.agents.mail}`);
    expect(r.ms).toBeGreaterThanOrEqual(1_000);
    expect(emu.counters.tokenRequests('leg1')).toBe(2);
    expect(emu.counters.tokenRequests('leg2')).toBe(2);
  });

  it('with the endpoint down (a closed port): exits non-zero with AGENTID_NETWORK on stderr', async () => {
    const r = await script(await closedPortUrl());
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(13);
    expect(r.stderr).toContain('AGENTID_NETWORK');
    expect(r.stdout).toBe('');
  });

  it("an attempt whose fetch holds no handle still times out (the per-attempt timer is not unref'd): AGENTID_TIMEOUT", async () => {
    const r = await script(httpsUrl, HANGING_FETCH);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(13);
    expect(r.stderr).toContain('AGENTID_TIMEOUT');
  });
});

describe('agentid token (exit codes 0, 1, 2, always with a message)', () => {
  it('survives a 503 and a 429 with Retry-After: exits 0 with the summary', async () => {
    injectRetries();
    const r = await cli(httpsUrl);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`agent token for ${SCOPE}`);
    expect(r.stdout).toContain(`subject   ${DEMO.agents.calendar}`);
    expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('a network failure exits 1 with the typed code on stderr', async () => {
    const r = await cli(await closedPortUrl());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^agentid token: AGENTID_NETWORK: /);
    expect(r.stdout).toBe('');
  });
});
