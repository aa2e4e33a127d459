#!/usr/bin/env node
// publint (strict) and @arethetypeswrong/cli on every published package, as CI runs them, and
// what `npm pack` would ship: no test files and no test support (that is the private
// @agentid/test-support package; test/package-boundaries.test.ts checks the imports).
// attw uses the esm-only profile: the packages are ESM; CommonJS callers require() them through
// Node's require(esm) (Node >= 20.19, the engines floor), which the consumer test proves.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
let failed = 0;
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const pkgDir = join(root, 'packages', dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: pkgDir,
    encoding: 'utf8',
  });
  const packed = pack.status === 0 ? JSON.parse(pack.stdout)[0].files.map((file) => file.path) : undefined;
  const shipped = packed?.filter((path) =>
    /(^|\/)test-support(\/|$)|\.test\.[cm]?[jt]s$|\.test\.d\.ts/.test(path),
  ) ?? ['(npm pack failed)'];
  console.log(`${shipped.length ? 'FAIL' : 'ok  '} ${'pack'.padEnd(8)} ${pkg.name}`);
  if (shipped.length) {
    failed++;
    console.log(`  ships test files: ${shipped.join(', ')}\n${pack.stderr}`);
  }
  for (const [tool, args] of [
    ['publint', ['--strict', pkgDir]],
    ['attw', ['--pack', pkgDir, '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    const r = spawnSync(bin(tool), args, {
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    const ok = r.status === 0;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${tool.padEnd(8)} ${pkg.name}`);
    if (!ok) {
      failed++;
      console.log(
        (r.stdout + r.stderr)
          .split('\n')
          .filter((l) => !/nodedir/.test(l))
          .join('\n'),
      );
    }
  }
}
console.log(failed ? `\n${failed} package check(s) failed` : '\nall packages pass publint and attw');
process.exit(failed ? 1 : 0);
