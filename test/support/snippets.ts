// The README snippet convention (CONTRIBUTING.md, "Code in READMEs"): extraction, the placeholder
// prelude, one type-check program and the transpiled modules that test/readme-snippets.test.ts runs.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** What test/support/snippet-placeholders.ts exports: the values a snippet may use undeclared. */
export const PLACEHOLDERS = [
  'blueprint',
  'agentId',
  'workerAgentId',
  'workerUpn',
  'sponsorId',
  'req',
  'url',
  'log',
];

/** Languages that are run; every other fence (sh, yaml, json, text, ...) is not code to run. */
export const RUN_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);
/** `<!-- snippet: no-run reason -->` right above a fence: type-checked, not run. */
const NO_RUN = /<!--\s*snippet:\s*no-run\s+(.+?)\s*-->\s*$/;

export interface Snippet {
  /** `packages/core/README.md:15` */
  where: string;
  name: string;
  lang: string;
  code: string;
  noRun?: string;
}

/** README.md and every packages/<name>/README.md. */
export function readmeFiles(root: string): string[] {
  const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `packages/${d.name}/README.md`)
    .filter((p) => {
      try {
        readFileSync(join(root, p));
        return true;
      } catch {
        return false;
      }
    });
  return ['README.md', ...packages.sort()];
}

/** The fenced code blocks of one markdown file, with the language of their fence. */
export function extractSnippets(root: string, file: string): Snippet[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence); i++) body.push(lines[i]!);
    const lang = open[3]!.toLowerCase();
    if (!RUN_LANGUAGES.has(lang)) continue;
    let above = start - 1;
    while (above >= 0 && lines[above]!.trim() === '') above--;
    const noRun = above >= 0 ? NO_RUN.exec(lines[above]!)?.[1] : undefined;
    const where = `${file}:${start + 1}`;
    out.push({
      where,
      name: where.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, ''),
      lang,
      code: body.join('\n'),
      ...(noRun ? { noRun } : {}),
    });
  }
  return out;
}

/** Names a module declares at its top level (imports, const/let/var, functions, classes). */
function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const bind = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s) && s.importClause) {
      if (s.importClause.name) names.add(s.importClause.name.text);
      const b = s.importClause.namedBindings;
      if (b && ts.isNamespaceImport(b)) names.add(b.name.text);
      if (b && ts.isNamedImports(b)) for (const e of b.elements) names.add(e.name.text);
    } else if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) names.add(s.name.text);
  }
  return names;
}

/**
 * The snippet as a module: an import of the placeholders it uses and does not declare itself,
 * then its code. The prelude is one line, so diagnostics' line numbers are off by one.
 */
export function withPrelude(snippet: Snippet, placeholders: readonly string[]): string {
  const source = ts.createSourceFile('s.mts', snippet.code, ts.ScriptTarget.ES2022, true);
  const declared = declaredNames(source);
  const used = placeholders.filter((p) => !declared.has(p) && new RegExp(`\\b${p}\\b`).test(snippet.code));
  const prelude = used.length ? `import { ${used.join(', ')} } from './placeholders.mjs';` : '';
  return `${prelude}\n${snippet.code}\nexport {};\n`;
}

/** Type-checks the modules (one program, the repo's compiler options, the packages' built types). */
export function typeCheck(root: string, files: string[]): string[] {
  const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), (p) => readFileSync(p, 'utf8'));
  const parsed = ts.parseJsonConfigFileContent(base.config, ts.sys, root);
  const program = ts.createProgram(files, {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    // The built declarations (as a user's editor sees them): a tenth of the time of the sources.
    customConditions: [],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || files.includes(d.file.fileName))
    .map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return message;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${d.file.fileName.split('/').pop()}:${line} ${message}`;
    });
}

/** Writes `<name>.mts` (for the type-check) and `<name>.mjs` (transpiled, to run). */
export function writeModule(dir: string, name: string, source: string): { mts: string; mjs: string } {
  mkdirSync(dir, { recursive: true });
  const mts = join(dir, `${name}.mts`);
  const mjs = join(dir, `${name}.mjs`);
  writeFileSync(mts, source);
  const js = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
  }).outputText;
  writeFileSync(mjs, js);
  return { mts, mjs };
}
