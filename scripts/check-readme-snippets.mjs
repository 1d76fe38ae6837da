#!/usr/bin/env node
/**
 * Type-checks every TypeScript example of the documentation as a user would
 * compile it: each ```ts block of a Markdown file is its own module, compiled
 * under the repository's `strict` settings against the workspace packages'
 * types (their sources, through `paths`), so a README cannot drift from the
 * API again.
 *
 * A block may need application objects it does not create (`db`, `app`, the
 * `redis` of an earlier block): declare them in an HTML comment right above
 * the block, which readers do not see rendered and the check prepends:
 *
 *     <!-- ts-check
 *     declare const db: { findUser(id: number): Promise<{ id: number }> };
 *     -->
 *     ```ts
 *     ...
 *     ```
 *
 * `<!-- ts-check: skip (reason) -->` leaves one block out (say why). Fences
 * spelled `js`, `javascript` or `typescript` are refused: examples are ```ts.
 *
 * CLI: `node scripts/check-readme-snippets.mjs [file.md ...]` (default: every
 * package README and docs/migrating/*.md); exits 1 listing `file:line: error`.
 * Tests import `checkMarkdown(files)`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The ```ts blocks of `markdown`, each with the line it starts on and its ts-check prelude. */
export function extractSnippets(markdown) {
  const lines = markdown.split('\n');
  const snippets = [];
  const refused = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const lang = open[2];
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (['js', 'javascript', 'typescript', 'mjs', 'cjs', 'tsx', 'jsx'].includes(lang)) {
      refused.push({ line: i + 1, message: `a \`\`\`${lang} fence: examples are \`\`\`ts (compiled by this check)` });
    }
    if (lang === 'ts') {
      const { prelude, skip } = preludeAbove(lines, i);
      snippets.push({ line: i + 2, code: lines.slice(i + 1, end).join('\n'), prelude, skip });
    }
    i = end;
  }
  return { snippets, refused };
}

/** The `<!-- ts-check ... -->` comment that ends on the line right above a fence, if any. */
function preludeAbove(lines, fence) {
  const above = fence - 1;
  if (above < 0 || !/-->\s*$/.test(lines[above])) return { prelude: '', skip: undefined };
  let start = above;
  while (start >= 0 && !lines[start].includes('<!--')) start--;
  const comment = lines.slice(start, above + 1).join('\n');
  const match = /<!--\s*ts-check(:\s*skip)?([\s\S]*?)-->/.exec(comment);
  if (!match) return { prelude: '', skip: undefined };
  if (match[1]) return { prelude: '', skip: match[2].trim() || 'no reason given' };
  return { prelude: match[2], skip: undefined };
}

/** `@stratacache/x[/sub]` -> its source file, for every workspace package (as vitest.config.ts does). */
function workspacePaths() {
  const paths = {};
  for (const group of ['packages', 'apps']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const manifestFile = join(dir, name, 'package.json');
      if (!existsSync(manifestFile)) continue;
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
      for (const subpath of Object.keys(manifest.exports ?? { '.': {} })) {
        if (subpath === './package.json') continue;
        const sub = subpath.slice(2);
        const candidates = sub ? [`src/${sub}/index.ts`, `src/${sub}.ts`] : ['src/index.ts'];
        const file = candidates.map((c) => join(dir, name, c)).find((c) => existsSync(c));
        if (file) paths[`${manifest.name}${sub ? `/${sub}` : ''}`] = [file];
      }
    }
  }
  return paths;
}

/** The workspace sources' own `.d.ts` files (module declarations such as `cluster-key-slot.d.ts`). */
function ambientDeclarations() {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.d.ts')) found.push(join(dir, entry.name));
    }
  };
  for (const group of ['packages', 'apps']) {
    if (!existsSync(join(root, group))) continue;
    for (const name of readdirSync(join(root, group))) {
      if (existsSync(join(root, group, name, 'src'))) walk(join(root, group, name, 'src'));
    }
  }
  return found;
}

/** Compiler options: the repository's strict base, no emit, workspace packages from source. */
function compilerOptions() {
  const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile).config;
  const { options } = ts.convertCompilerOptionsFromJson(base.compilerOptions, root);
  return {
    ...options,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    baseUrl: root,
    paths: workspacePaths(),
    types: ['node'],
    typeRoots: [join(root, 'node_modules/@types')],
  };
}

/**
 * Compiles every ```ts block of `files` (Markdown paths) and resolves the
 * problems found, each `{ file, line, message }` with `line` in the Markdown.
 * A block compiles as `<file's folder>/<name>.snippet-<n>.mts`, so its imports
 * resolve from the folder of the Markdown file (its package's node_modules).
 */
export function checkMarkdown(files) {
  const problems = [];
  const virtual = new Map();
  for (const file of files) {
    const { snippets, refused } = extractSnippets(readFileSync(file, 'utf8'));
    for (const r of refused) problems.push({ file, ...r });
    snippets.forEach((snippet, n) => {
      if (snippet.skip !== undefined) return;
      const prelude = snippet.prelude.trim() ? `${snippet.prelude.trim()}\n` : '';
      // The block's first line lands on this line of the virtual file.
      const offset = prelude.split('\n').length - 1;
      const text = `${prelude}${snippet.code}\nexport {};\n`;
      const path = join(snippetHome(file), `${file.split('/').pop().replace(/\.md$/, '')}.snippet-${n + 1}.mts`);
      virtual.set(path, { text, file, line: snippet.line, offset, preludeLines: offset });
    });
  }
  if (virtual.size === 0) return problems;

  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const snippet = virtual.get(resolve(name));
    if (snippet) return ts.createSourceFile(name, snippet.text, languageVersion, true);
    return getSourceFile(name, languageVersion, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => virtual.has(resolve(name)) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => virtual.get(resolve(name))?.text ?? readFile(name);

  const program = ts.createProgram([...virtual.keys(), ...ambientDeclarations()], options, host);
  const diagnostics = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
  for (const d of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const snippet = d.file ? virtual.get(resolve(d.file.fileName)) : undefined;
    if (!snippet) {
      // An error in a workspace source or a library: report it once, plainly.
      const where = d.file
        ? `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : 'compiler';
      problems.push({ file: where, line: 0, message: `TS${d.code}: ${message}` });
      continue;
    }
    const at = d.file.getLineAndCharacterOfPosition(d.start ?? 0).line;
    const inPrelude = at < snippet.preludeLines;
    problems.push({
      file: snippet.file,
      line: inPrelude ? snippet.line - 2 : snippet.line + at - snippet.offset,
      message: `${inPrelude ? '(in the ts-check comment) ' : ''}TS${d.code}: ${message}`,
    });
  }
  return problems;
}

/**
 * The folder a file's blocks compile in, so their imports resolve from its node_modules: the
 * Markdown file's own folder, except the migration guides, whose "before" code imports the peer
 * libraries installed by the private package that runs them (packages/migration-guides).
 */
function snippetHome(file) {
  const guides = join(root, 'docs/migrating');
  return resolve(file).startsWith(`${guides}/`) ? join(root, 'packages/migration-guides') : dirname(file);
}

/** Every package README and every migration guide. */
export function documentationFiles() {
  const files = [];
  for (const name of readdirSync(join(root, 'packages'))) {
    const readme = join(root, 'packages', name, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  const guides = join(root, 'docs/migrating');
  if (existsSync(guides)) {
    for (const name of readdirSync(guides)) if (name.endsWith('.md')) files.push(join(guides, name));
  }
  return files;
}

/** `file:line: message` lines. */
export function formatProblems(problems) {
  return problems.map((p) => `${relative(root, resolve(p.file))}${p.line ? `:${p.line}` : ''}: ${p.message}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : documentationFiles();
  const problems = checkMarkdown(files);
  const blocks = files.reduce((n, f) => n + extractSnippets(readFileSync(f, 'utf8')).snippets.length, 0);
  if (problems.length > 0) {
    console.error(formatProblems(problems).join('\n'));
    console.error(`\n${problems.length} problem(s) in the ts examples of ${files.length} file(s)`);
    process.exit(1);
  }
  console.log(`${blocks} ts blocks in ${files.length} Markdown files compile under strict`);
}
