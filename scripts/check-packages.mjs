#!/usr/bin/env node
// publint (strict) and @arethetypeswrong/cli on every published package, as CI runs them.
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
  for (const [tool, args] of [
    ['publint', ['--strict', pkgDir]],
    ['attw', ['--pack', pkgDir, '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    const r = spawnSync(bin(tool), args, { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
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
