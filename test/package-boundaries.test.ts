// Package boundaries, checked on the source: test support lives in the private
// @agentid/test-support package (a published package's src imports neither vitest nor it outside
// its *.test.ts files), and no file reaches into another package through a relative path: it
// imports the package by its name, as a user would.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;
const SKIP = new Set(['node_modules', 'dist', 'coverage', '.git']);

function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : SOURCE.test(entry.name) ? [path] : [];
  });
}

/** The module specifiers a source text imports or re-exports (static and dynamic). */
function specifiersIn(text: string): string[] {
  const found: string[] = [];
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(pattern)) found.push((match[1] ?? match[2] ?? match[3])!);
  return found;
}
const specifiersOf = (file: string): string[] => specifiersIn(readFileSync(file, 'utf8'));

/** The package folder (packages/<name>) a path lies in, or `undefined`. */
function packageOf(path: string): string | undefined {
  const rel = relative(packagesDir, path);
  if (rel.startsWith('..') || rel === '') return undefined;
  return rel.split(sep)[0];
}

const packages = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({
    dir: entry.name,
    manifest: JSON.parse(readFileSync(join(packagesDir, entry.name, 'package.json'), 'utf8')) as {
      name: string;
      private?: boolean;
    },
  }));

describe('package boundaries', () => {
  it('test support is a private package, and no published package ships or imports it outside its tests', () => {
    const support = packages.find((p) => p.manifest.name === '@agentid/test-support');
    expect(support?.manifest.private).toBe(true);
    const offenders: string[] = [];
    for (const { dir, manifest } of packages) {
      if (manifest.private) continue;
      for (const file of filesUnder(join(packagesDir, dir, 'src'))) {
        if (/\.test\.[cm]?[jt]s$/.test(file)) continue;
        for (const specifier of specifiersOf(file)) {
          if (
            specifier === 'vitest' ||
            specifier.startsWith('vitest/') ||
            specifier.startsWith('@agentid/test-support')
          )
            offenders.push(`${relative(root, file)} imports ${specifier}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it("no file imports another package's files by a relative path (src or dist)", () => {
    const offenders: string[] = [];
    const files = [
      ...filesUnder(packagesDir),
      ...['test', 'examples', 'bench', 'scripts'].flatMap((dir) => filesUnder(join(root, dir))),
    ];
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      const own = packageOf(file);
      for (const specifier of specifiersOf(file)) {
        if (!specifier.startsWith('.')) continue;
        const target = packageOf(resolve(dirname(file), specifier));
        if (target !== undefined && target !== own)
          offenders.push(`${relative(root, file)} imports ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the check sees every form of import (it is not vacuous)', () => {
    const text = [
      "import { a } from '../../core/src/a.js';",
      "import type {\n  B,\n} from '../b.js';",
      "export * from './c.js';",
      "import './d.js';",
      "const e = await import('../e.js');",
    ].join('\n');
    expect(specifiersIn(text)).toEqual(['../../core/src/a.js', '../b.js', './c.js', './d.js', '../e.js']);
    const file = join(packagesDir, 'obo', 'src', 'x.test.ts');
    expect(packageOf(file)).toBe('obo');
    expect(packageOf(resolve(dirname(file), '../../core/src/cache/memo.js'))).toBe('core');
  });

  it.each([
    ['sidecar', '@agentid/redis'],
    ['cli', '@agentid/emulator'],
  ])('%s: %s is an optional peer, never imported statically (only when configured or run)', (dir, dep) => {
    const manifest = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    expect(manifest.dependencies?.[dep]).toBeUndefined();
    expect(manifest.peerDependencies?.[dep]).toBeDefined();
    expect(manifest.peerDependenciesMeta?.[dep]?.optional).toBe(true);
    const staticImports: string[] = [];
    for (const file of filesUnder(join(packagesDir, dir, 'src'))) {
      if (/\.test\.[cm]?[jt]s$/.test(file)) continue;
      const text = readFileSync(file, 'utf8');
      // Static value imports (type-only ones vanish from the build).
      const pattern = /(?:^|[\s;])(?:import|export)\s+(?!type\s)[^'"`;]*?from\s*['"]([^'"]+)['"]/g;
      for (const m of text.matchAll(pattern)) if (m[1] === dep) staticImports.push(relative(root, file));
    }
    expect(staticImports).toEqual([]);
  });
});
