// Installable from npm: pack every package, install the tarballs into a fresh project outside the
// workspace (no workspace links), then use them as a user would: an ESM script that gets an agent
// token from the emulator, the same from CommonJS with require() (Node >= 20.19), and a TypeScript
// consumer type-checked with moduleResolution node16 and bundler. Runs on whichever Node runs the
// suite (.ci/run: the machine's and Node 24).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'agentid-consumer-'));
const project = join(work, 'app');
const { NODE_OPTIONS: _omit, ...cleanEnv } = process.env;
const env = {
  ...cleanEnv,
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
};

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const packages = readdirSync(join(root, 'packages'))
  .map((d) => ({
    dir: join(root, 'packages', d),
    pkg: JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as {
      name: string;
      private?: boolean;
    },
  }))
  .filter((p) => !p.pkg.private);

beforeAll(() => {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  mkdirSync(project);
  for (const p of packages) {
    const r = run('npm', ['pack', '--silent', '--pack-destination', tarballs], p.dir);
    if (r.status !== 0) throw new Error(`npm pack ${p.pkg.name} failed:\n${r.out}`);
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  // All tarballs at once: their @agentid/* dependencies (exact versions) resolve to each other;
  // third-party dependencies come from the registry (or npm's cache).
  const r = run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-package-lock',
      '@types/node@^20',
      '@opentelemetry/api@^1.9.0',
      ...files,
    ],
    project,
  );
  if (r.status !== 0) throw new Error(`npm install failed:\n${r.out}`);
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SCRIPT = `
  const { createEmulator, DEMO } = await load('@agentid/emulator');
  const { createBlueprint, secretCredential } = await load('@agentid/core');
  const emu = await createEmulator();
  const W = DEMO.blueprints.workers;
  const bp = createBlueprint({ tenantId: DEMO.tenantId, clientId: W.appId, credential: secretCredential(W.secret, { silenceWarning: true }), authorityHost: emu.baseUrl, network: { fetch: emu.fetch } });
  const t = await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
  for (const name of ['@agentid/obo', '@agentid/agent-user', '@agentid/tools', '@agentid/express', '@agentid/fastify', '@agentid/redis', '@agentid/sidecar', '@agentid/cli']) {
    const m = await load(name);
    if (Object.keys(m).length === 0) throw new Error(name + ' exports nothing');
  }
  console.log(JSON.stringify({ subject: t.subject, actor: t.actor, expected: DEMO.agents.mail }));
  await emu.close();
`;

describe('the packed packages, installed outside the workspace', () => {
  it('are installed from tarballs, not linked to the workspace', () => {
    const core = readFileSync(join(project, 'node_modules', '@agentid', 'core', 'package.json'), 'utf8');
    expect(JSON.parse(core).name).toBe('@agentid/core');
    const listing = readdirSync(join(project, 'node_modules', '@agentid', 'core'));
    expect(listing).toContain('dist');
    expect(listing).not.toContain('tsconfig.build.json');
  });

  it('ESM: import, get an agent token from the emulator', () => {
    writeFileSync(join(project, 'esm.mjs'), `const load = (n) => import(n);\n${SCRIPT}`);
    const r = run(process.execPath, ['esm.mjs'], project);
    expect(r.status, r.out).toBe(0);
    const line = JSON.parse(r.out.split('\n').find((l) => l.startsWith('{"subject"'))!) as Record<
      string,
      string
    >;
    expect([line['subject'], line['actor']]).toEqual([line['expected'], line['expected']]);
  });

  it('CommonJS: require() the packages (require(esm), Node >= 20.19) and get a token', () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const load = async (n) => require(n);\n(async () => {${SCRIPT}})().catch((e) => { console.error(e); process.exit(1); });`,
    );
    const r = run(process.execPath, ['cjs.cjs'], project);
    expect(r.status, r.out).toBe(0);
    const line = JSON.parse(r.out.split('\n').find((l) => l.startsWith('{"subject"'))!) as Record<
      string,
      string
    >;
    expect([line['subject'], line['actor']]).toEqual([line['expected'], line['expected']]);
  });

  for (const resolution of ['node16', 'bundler'] as const) {
    it(`TypeScript: a consumer type-checks with moduleResolution ${resolution} (skipLibCheck off)`, () => {
      const dir = join(project, `ts-${resolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            target: 'ES2022',
            lib: ['ES2023', 'DOM'],
            types: ['node'],
            typeRoots: ['../node_modules/@types'],
            module: resolution === 'node16' ? 'node16' : 'esnext',
            moduleResolution: resolution,
          },
          include: ['*.ts'],
        }),
      );
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(
        join(dir, 'main.ts'),
        `import { createBlueprint, secretCredential, agentTokenCredential, type AccessToken, type Blueprint, AgentIdError } from '@agentid/core';
import { onBehalfOf, createTokenValidator, oboTokenCredential, type Principal } from '@agentid/obo';
import { agentUser, agentUserTokenCredential } from '@agentid/agent-user';
import { createAgentToolkit } from '@agentid/tools';
import { agentid } from '@agentid/express';
import { agentidPlugin } from '@agentid/fastify';
import { createRedisL2, type RedisL2 } from '@agentid/redis';
import { createSidecar, loadSidecarConfig, type Sidecar } from '@agentid/sidecar';
import { createEmulator, DEMO } from '@agentid/emulator';
import { runCli } from '@agentid/cli';
export async function main(): Promise<string | undefined> {
  const emu = await createEmulator();
  const bp: Blueprint = createBlueprint({ tenantId: DEMO.tenantId, clientId: DEMO.blueprints.workers.appId, credential: secretCredential('x'), authorityHost: emu.baseUrl });
  const t: AccessToken = await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
  const cred = agentTokenCredential(bp.agent(DEMO.agents.mail));
  const v = createTokenValidator({ tenantId: DEMO.tenantId, audiences: ['api://x'] });
  const p: Principal = await v.validate('token');
  await onBehalfOf(bp.agent(DEMO.agents.mail), 'token', ['api://tools/Mail.Read'], { principal: p });
  const u = agentUserTokenCredential(agentUser(bp.agent(DEMO.agents.digitalWorker), { objectId: p.oid }));
  const o = oboTokenCredential(bp.agent(DEMO.agents.mail), 'token');
  const l2: RedisL2 = createRedisL2({ url: 'redis://127.0.0.1:6379', encryption: { currentKeyId: 'k', keys: { k: new Uint8Array(32) } } });
  const s: Sidecar = createSidecar(loadSidecarConfig({ env: {} }));
  void [cred, u, o, l2, s, createAgentToolkit, agentid, agentidPlugin, runCli, AgentIdError];
  return t.subject;
}
`,
      );
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const r = run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
      expect(r.status, r.out).toBe(0);
    });
  }
});
