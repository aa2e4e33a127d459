// Docs that run (#22): every ts/js code block of README.md and packages/*/README.md is type-checked
// (one program, the repo's compiler options) and run against the emulator (one emulator, one
// process), with the placeholders of CONTRIBUTING.md ("Code in READMEs"). A block opts out of
// running only with `<!-- snippet: no-run reason -->`; those are counted and listed here.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { createCertificate, createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { startRedis, type TestRedis } from '@agentid/test-support/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractSnippets,
  PLACEHOLDERS,
  readmeFiles,
  type Snippet,
  typeCheck,
  withPrelude,
  writeModule,
} from './support/snippets.js';

const root = new URL('../', import.meta.url).pathname;
// Inside the repository, so that the modules resolve @agentid/* from its node_modules.
const dir = mkdtempSync(join(root, 'test', '.snippets-'));
const snippets: Snippet[] = readmeFiles(root).flatMap((f) => extractSnippets(root, f));
const modules = new Map<string, { mts: string; mjs: string }>();
let emu: Emulator;
let redis: TestRedis;
let results: Array<{ name: string; ok: boolean; error?: string }> = [];
let output = '';

beforeAll(async () => {
  for (const pkg of ['core', 'obo', 'agent-user', 'tools', 'express', 'fastify', 'redis', 'emulator'])
    if (!existsSync(`${root}packages/${pkg}/dist/index.js`)) throw new Error('build first: npm run build');
  const cert = createCertificate({ subject: 'readme-snippets' });
  const seed = defaultSeed();
  const workers = seed.tenants[0]!.blueprints!.find((b) => b.appId === DEMO.blueprints.workers.appId)!;
  workers.credentials = { ...workers.credentials, certificates: [cert.certPem] };
  emu = await createEmulator({ seed });
  const listening = await emu.listen({ http: false });
  redis = await startRedis();
  const pem = join(dir, 'blueprint.pem');
  writeFileSync(pem, `${cert.keyPem}\n${cert.certPem}`);
  copyFileSync(join(root, 'test/support/snippet-placeholders.ts'), join(dir, 'placeholders.mts'));
  modules.set(
    'placeholders',
    writeModule(dir, 'placeholders', readFileSync(join(dir, 'placeholders.mts'), 'utf8')),
  );
  for (const s of snippets) modules.set(s.name, writeModule(dir, s.name, withPrelude(s, PLACEHOLDERS)));
  const runner = join(dir, 'run.mjs');
  writeFileSync(
    runner,
    `const results = [];
for (const [name, file] of JSON.parse(process.argv[2])) {
  try { await import(file); results.push({ name, ok: true }); }
  catch (e) { results.push({ name, ok: false, error: String(e && e.stack || e) }); }
}
process.stdout.write('\\n@@results ' + JSON.stringify(results) + '\\n');
process.exit(0);\n`,
  );
  const run = snippets.filter((s) => !s.noRun).map((s) => [s.name, `file://${modules.get(s.name)!.mjs}`]);
  // The environment CONTRIBUTING.md documents for snippets, and nothing else of this process's.
  // Not spawnSync: the emulator answers from this process's event loop.
  const child = spawn(process.execPath, [runner, JSON.stringify(run)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_EXTRA_CA_CERTS: listening.caPath!,
      AGENTID_EMULATOR: listening.httpsUrl!,
      AZURE_TENANT_ID: DEMO.tenantId,
      AZURE_CLIENT_ID: DEMO.blueprints.workers.appId,
      AZURE_CLIENT_CERTIFICATE_PATH: pem,
      REDIS_URL: redis.url,
      AGENTID_L2_KEY: Buffer.alloc(32, 7).toString('base64'),
      AGENTID_L2_NAME_KEY: 'snippets-name-key',
      AGENTID_DELEGATION_KEY: 'a-delegation-key-of-at-least-32-bytes!!',
    },
  });
  const r = { stdout: '', stderr: '', status: null as number | null };
  child.stdout.on('data', (c: Buffer) => (r.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (r.stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  r.status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  output = `${r.stdout}${r.stderr}`;
  const line = /@@results (.+)/.exec(r.stdout)?.[1];
  if (!line) throw new Error(`the snippets' process failed (status ${r.status}): ${output.slice(-3000)}`);
  results = JSON.parse(line) as typeof results;
}, 180_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await redis?.stop();
  await emu?.close();
});

describe('README snippets', () => {
  it('finds the snippets of every README, and lists the few that opt out of running', () => {
    expect(snippets.length).toBeGreaterThan(10);
    const optedOut = snippets
      .filter((s) => s.noRun)
      .map((s) => `${s.where.replace(/:\d+$/, '')}: ${s.noRun}`);
    // Keep this list short: a snippet that cannot run against the emulator is a snippet to fix. Each
    // of these is type-checked, and what it shows runs in the example it names.
    expect(optedOut).toEqual([
      'packages/core/README.md: needs customer tenants the demo tenant does not have (examples/two-tenant runs it)',
      'packages/mcp/README.md: a server for an https Application ID URI (examples/mcp runs one on the emulator)',
      'packages/mcp/README.md: needs the MCP server above (examples/mcp runs both)',
      'packages/obo/README.md: a fragment of a request handler and a job queue (examples/long-running runs it)',
      'packages/obo/README.md: a fragment of an Express app',
      'packages/obo/README.md: needs a JWKS served by another agent',
    ]);
  });

  it('type-check in one program with the repository packages', () => {
    const files = [...modules.values()].map((m) => m.mts);
    expect(typeCheck(root, files)).toEqual([]);
  }, 120_000);

  for (const s of snippets.filter((x) => !x.noRun))
    it(`${s.where} runs against the emulator`, () => {
      const r = results.find((x) => x.name === s.name);
      expect(r?.ok, r?.error).toBe(true);
    });

  it('print no token', () => {
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});

describe('package READMEs, as published', () => {
  // A package's tarball holds its own folder only: a README link elsewhere is dead on npm.
  const published = readmeFiles(root).filter((f) => {
    if (f === 'README.md') return false;
    const pkg = JSON.parse(readFileSync(join(root, dirname(f), 'package.json'), 'utf8')) as {
      private?: boolean;
    };
    return pkg.private !== true;
  });
  for (const f of published)
    it(`${f} links the API reference and the protocol doc by URL, and nothing outside its package`, () => {
      const text = readFileSync(join(root, f), 'utf8');
      expect(text).toMatch(/API reference/);
      expect(text).not.toMatch(/PROTOCOL\.md/);
      const outside = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !/^(https?:|mailto:|#)/.test(target))
        .filter((target) => {
          const resolved = normalize(join(dirname(f), target.split('#')[0]!));
          return !resolved.startsWith(`${dirname(f)}/`) || !existsSync(join(root, resolved));
        });
      expect(outside).toEqual([]);
    });
});
