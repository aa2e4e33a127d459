#!/usr/bin/env node
// Runs the whole vitest suite once and ends with the plain line CI reads:
// "N passed, N failed" (", N skipped" when any were skipped).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// Some tests run the built packages as users would (examples, child-process replicas): build
// first, unless the caller just did (.ci/run sets AGENTID_TEST_NO_BUILD=1).
if (process.env.AGENTID_TEST_NO_BUILD !== '1') {
  const build = spawnSync('npm', ['run', 'build', '--silent'], {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (build.status !== 0) {
    console.log('\n0 passed, 1 failed (the build failed)');
    process.exit(1);
  }
}

// The @agentid/redis tests start their own redis-server on loopback. On a fresh Debian machine as
// root, install it the way .ci/run does; otherwise say what is missing.
if (spawnSync('redis-server', ['--version']).status !== 0) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && spawnSync('apt-get', ['--version']).status === 0) {
    console.log('== redis-server is missing: installing it (apt-get install redis-server)');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else {
    console.log(
      '== redis-server is not on PATH: the @agentid/redis tests will fail. Install it (e.g. apt-get install redis-server).',
    );
  }
}

const out = '.test-results.json';
rmSync(out, { force: true });
// vitest's bin is not in its exports map: resolve it next to its package.json.
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const args = [
  vitest,
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  ...process.argv.slice(2),
];
const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numFailedTestSuites ?? 0);
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
} catch {
  failed = Math.max(failed, 1);
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
