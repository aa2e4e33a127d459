#!/usr/bin/env node
// API reference from TSDoc with TypeDoc: one run per package (docs/api/<package>), failing on any
// warning, including an export (or a member of an exported interface) without documentation.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const typedoc = join(root, 'node_modules', '.bin', 'typedoc');
rmSync(join(root, 'docs', 'api'), { recursive: true, force: true });
let failed = 0;
// Every public entry point of a package: its "exports" subpaths (`.`, `./broker`, ...) by their source.
const entryPointsOf = (dir, pkg) =>
  Object.values(pkg.exports ?? {})
    .map((target) => (typeof target === 'object' && target !== null ? target['dev-source'] : undefined))
    .filter((source) => typeof source === 'string')
    .flatMap((source) => ['--entryPoints', join(root, 'packages', dir, source)]);
const index = [];
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const out = join(root, 'docs', 'api', dir);
  const r = spawnSync(
    typedoc,
    [
      '--options',
      join(root, 'typedoc.json'),
      ...entryPointsOf(dir, pkg),
      '--name',
      pkg.name,
      '--readme',
      join(root, 'packages', dir, 'README.md'),
      '--out',
      out,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  );
  const text = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l && !/nodedir|^\[info\]/.test(l));
  const warnings = text.filter((l) => /warning|error/i.test(l) && !/Found 0 errors and 0 warnings/.test(l));
  const ok = r.status === 0 && warnings.length === 0;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${pkg.name}`);
  if (!ok) {
    failed++;
    console.log(warnings.join('\n') || text.join('\n'));
  }
  index.push(`<li><a href="${dir}/index.html">${pkg.name}</a>: ${pkg.description}</li>`);
}
mkdirSync(join(root, 'docs', 'api'), { recursive: true });
writeFileSync(
  join(root, 'docs', 'api', 'index.html'),
  `<!doctype html><meta charset="utf-8"><title>agentid API reference</title><h1>agentid API reference</h1><ul>${index.join('')}</ul>\n`,
);
console.log(
  failed
    ? `\n${failed} package(s) have undocumented exports or doc warnings`
    : '\nAPI reference built in docs/api (every export documented)',
);
process.exit(failed ? 1 : 0);
