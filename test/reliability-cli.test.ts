// The bins as users run them (built packages: `npm run build`): documented exit codes (0 ok or
// --help, 1 failed, 2 usage mistake, always with a message), the emulator's CA folder removed on
// SIGTERM, SIGINT and close(), and bin shims that exist before the first build so that npm links them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmulator } from '@agentid/emulator';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BINS = {
  agentid: 'packages/cli',
  'agentid-emulator': 'packages/emulator',
  'agentid-sidecar': 'packages/sidecar',
} as const;
type Bin = keyof typeof BINS;
const binPath = (bin: Bin): string => join(ROOT, BINS[bin], 'bin', `${bin}.js`);
const { NODE_OPTIONS: _omit, ...baseEnv } = process.env;
// Each child gets its own TMPDIR, so that what it leaves behind is visible (and nobody else's is).
const tmpRoots: string[] = [];
const privateTmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'agentid-cli-test-'));
  tmpRoots.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

function runSync(bin: Bin, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [binPath(bin), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...baseEnv, TMPDIR: privateTmp(), ...env },
    timeout: 15_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

// Starts a long-running bin with --json and waits for its first JSON line.
async function startServing(
  bin: Bin,
  args: string[],
  tmp: string,
): Promise<{
  child: ChildProcess;
  info: Record<string, unknown>;
  exited: Promise<{ code: number | null; signal: string | null; output: string }>;
}> {
  const child = spawn(process.execPath, [binPath(bin), ...args], {
    cwd: ROOT,
    env: { ...baseEnv, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; output: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, output })),
  );
  for (let i = 0; i < 300; i++) {
    const line = output.split('\n').find((l) => l.startsWith('{'));
    if (line) return { child, info: JSON.parse(line) as Record<string, unknown>, exited };
    if (child.exitCode !== null) throw new Error(`${bin} exited: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${bin} did not start: ${output}`);
}

describe('usage: --help is exit 0, a usage mistake exit 2 with a message, a failure exit 1 with a message', () => {
  it('agentid sidecar --help and agentid-sidecar --help print the usage and exit 0', () => {
    for (const [bin, args] of [
      ['agentid', ['sidecar', '--help']],
      ['agentid-sidecar', ['--help']],
      ['agentid-sidecar', ['-h']],
    ] as Array<[Bin, string[]]>) {
      const r = runSync(bin, args);
      expect(r.code, `${bin} ${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('usage: agentid sidecar');
      expect(r.stderr).toBe('');
    }
  });

  it('bad ports and other bad options of the emulator and the sidecar exit 2 and name the option', () => {
    const cases: Array<[Bin, string[], RegExp]> = [
      [
        'agentid',
        ['emulator', '--https-port', '99999'],
        /--https-port must be a port number \(0-65535\), got '99999'/,
      ],
      ['agentid-emulator', ['--https-port', '99999'], /--https-port must be a port number/],
      ['agentid-emulator', ['--http-port=-1'], /--http-port must be a port number/],
      ['agentid-emulator', ['--http-port', '8080.5'], /--http-port must be a port number/],
      ['agentid-emulator', ['--lifetime', 'soon'], /--lifetime must be a whole number of seconds/],
      ['agentid-emulator', ['--no-https', '--no-http'], /leave nothing to serve/],
      ['agentid-emulator', ['--bogus'], /Unknown option '--bogus'/],
      ['agentid', ['sidecar', '--port', '99999'], /--port must be a port number \(0-65535\), got '99999'/],
      ['agentid-sidecar', ['--port', '99999'], /--port must be a port number/],
      ['agentid-sidecar', ['--port', 'http'], /--port must be a port number/],
      ['agentid-sidecar', ['--bogus'], /Unknown option '--bogus'/],
      ['agentid', ['token', '--agent'], /--agent' argument missing|argument missing/],
    ];
    for (const [bin, args, message] of cases) {
      const r = runSync(bin, args);
      expect(r.code, `${bin} ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('usage:');
    }
  });

  it('a start failure exits 1 with a message (the sidecar without configuration, a port in use)', async () => {
    const none = runSync('agentid-sidecar', [], { AzureAd__TenantId: '', AzureAd__ClientId: '' });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^agentid-sidecar: sidecar configuration: /);
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((busy.address() as { port: number }).port);
      const tmp = privateTmp();
      const r = spawnSync(
        process.execPath,
        [binPath('agentid-emulator'), '--https-port', '0', '--http-port', port],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...baseEnv, TMPDIR: tmp },
          timeout: 15_000,
        },
      );
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^agentid-emulator: .*EADDRINUSE/);
      // The HTTPS server had started and written its CA: gone with the failed start.
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});

describe("the emulator's CA folder does not outlive it", () => {
  for (const [bin, args, signal] of [
    ['agentid-emulator', ['--json'], 'SIGTERM'],
    ['agentid-emulator', ['--json'], 'SIGINT'],
    ['agentid', ['emulator', '--json'], 'SIGTERM'],
  ] as Array<[Bin, string[], NodeJS.Signals]>) {
    it(`${bin} ${args.join(' ')}: ${signal} removes it and exits 0`, async () => {
      const tmp = privateTmp();
      const { child, info, exited } = await startServing(bin, args, tmp);
      const caPath = info.caPath as string;
      expect(caPath.startsWith(join(tmp, 'agentid-emulator-'))).toBe(true);
      expect(readFileSync(caPath, 'utf8')).toContain('BEGIN CERTIFICATE');
      child.kill(signal);
      const end = await exited;
      expect(end.code, end.output).toBe(0);
      expect(existsSync(dirname(caPath))).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
    });
  }

  it('close() removes the folder it created; a caller-given caDir is kept, without ca.pem', async () => {
    const emu = await createEmulator();
    const { caPath } = await emu.listen({ http: false });
    expect(existsSync(caPath!)).toBe(true);
    expect(dirname(caPath!)).toMatch(/agentid-emulator-[A-Za-z0-9]{6}$/);
    await emu.close();
    expect(existsSync(dirname(caPath!))).toBe(false);

    const mine = privateTmp();
    const emu2 = await createEmulator();
    const l = await emu2.listen({ http: false, caDir: mine });
    expect(l.caPath).toBe(join(mine, 'ca.pem'));
    await emu2.close();
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(l.caPath!)).toBe(false);
  });
});

describe('bins: committed shims that npm links at install time, before dist/ exists', () => {
  it('every package bin points at a committed shim that is published and runs the built bin', () => {
    for (const [bin, dir] of Object.entries(BINS) as Array<[Bin, string]>) {
      const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
        bin: Record<string, string>;
        files: string[];
      };
      expect(pkg.bin).toEqual({ [bin]: `./bin/${bin}.js` });
      expect(pkg.files).toContain('bin');
      expect(readFileSync(binPath(bin), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
      const r = runSync(bin, ['--help']);
      expect(r.code, `${bin}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^usage: agentid/);
    }
    // The git index must have them executable (npm chmods links, a checkout does not).
    const ls = spawnSync(
      'git',
      ['ls-files', '-s', '--', ...Object.keys(BINS).map((b) => binPath(b as Bin))],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (ls.status === 0 && ls.stdout.trim() !== '')
      for (const line of ls.stdout.trim().split('\n')) expect(line.startsWith('100755')).toBe(true);
  });

  it('a shim without dist/ says to build first and exits 1', () => {
    const pkgDir = join(privateTmp(), 'pkg');
    mkdirSync(join(pkgDir, 'bin'), { recursive: true });
    copyFileSync(binPath('agentid'), join(pkgDir, 'bin', 'agentid.js'));
    const r = spawnSync(process.execPath, [join(pkgDir, 'bin', 'agentid.js'), '--help'], {
      encoding: 'utf8',
      env: baseEnv,
      timeout: 15_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'agentid: @agentid/cli is not built yet (no dist/bin.js): run `npm run build` first',
    );
  });
});
