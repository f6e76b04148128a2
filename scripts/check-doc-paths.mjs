// `npm run check:docs` (`-- --help` lists the options): fails when the documentation names a file of
// this repository that does not exist. It reads README.md, SECURITY.md, docs/*.md and
// client/README.md and checks
//   - every relative markdown link and image (`[text](../src/app.ts#anchor)`, against the file's
//     folder), and
//   - every path in code, inline (`src/db/schema/`) or fenced (`node scripts/seed.mjs`), that starts
//     with a top-level folder of the repository (src/, tests/, scripts/, docs/, migrations/, …), or
//     is one of the repository's top-level files or a config file named bare (`wrangler.toml`,
//     `package.json`, `wrangler.jsonc`, …).
// Placeholders match anything in one path segment: `<name>`, `*`, `…`, `NNNN`; `{a,b}` is both;
// `**` any depth; a last segment without an extension may be a name's start (`migrations/0008`).
// A trailing `/` means a folder. Bare config names are checked in inline code only (a code block's
// `> .secrets.json` makes that file), and never before `(` (`res.json()`). `:12` / `#L12` line suffixes are dropped. Paths that
// .gitignore covers (.dev.vars, .wrangler/, dist/, …) are generated locally and not checked.
// What exists is what git tracks plus untracked files it does not ignore.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { cli, ROOT } from './lib.mjs';

const opts = cli({
  script: 'check:docs',
  usage: 'npm run check:docs [-- --list]',
  about: `Finds every repository path named in README.md, SECURITY.md, docs/*.md and client/README.md
(relative links, and paths in code spans and code blocks) and fails listing those that do not exist.
Placeholders (<name>, *, …, NNNN, {a,b}) match any existing file; gitignored paths are not checked.`,
  options: { list: [false, 'also print every path it checked'] },
});

const DIRS = ['src', 'tests', 'scripts', 'docs', 'migrations', 'migrations-pg', 'web', 'bench', 'client', '.ci'];
// Config files a doc may name bare; checked even when they do not exist (a wrong one is the point).
const BARE = /^(?:[\w.-]+\.(?:toml|jsonc?|ya?ml)|\.dev\.vars(?:\.example)?|LICENSE|[A-Z]+\.md)$/;

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);
const folders = new Set();
for (const f of files) for (let d = dirname(f); d !== '.'; d = dirname(d)) folders.add(d);

/** .gitignore's entries as tests (prefix for folders, exact or a simple glob otherwise). */
const ignored = readFileSync(join(ROOT, '.gitignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'))
  .map((entry) => {
    const re = globRegex(entry.replace(/^\//, '').replace(/\/$/, ''));
    const anywhere = !entry.replace(/\/$/, '').includes('/');
    return (path) => {
      const parts = path.replace(/\/$/, '').split('/');
      for (let i = 0; i < parts.length; i++) {
        const prefix = parts.slice(0, i + 1).join('/');
        if (re.test(prefix) || (anywhere && re.test(parts[i]))) return true;
      }
      return false;
    };
  });

/** A glob (`*`, `**`, `?`) as a regex over a whole path. */
function globRegex(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** `a{b,c}d` → [abd, acd] (not nested). */
function braces(path) {
  const m = /\{([^{}]*,[^{}]*)\}/.exec(path);
  if (!m) return [path];
  return m[1].split(',').flatMap((alt) => braces(path.slice(0, m.index) + alt + path.slice(m.index + m[0].length)));
}

/**
 * Does `path` (repository-relative; placeholders allowed; trailing / for a folder) exist? A last
 * segment without an extension may be the start of a name: `migrations/0008` is 0008_….sql.
 */
function exists(path) {
  const last = path.replace(/\/$/, '').split('/').pop();
  if (!path.endsWith('/') && !last.includes('.') && !/[*<…]/.test(last) && !existsExactly(path)) return existsExactly(`${path}*`);
  return existsExactly(path);
}

function existsExactly(path) {
  return braces(path).every((p) => {
    const folder = p.endsWith('/');
    const glob = p
      .replace(/\/$/, '')
      .replace(/<[^<>/]*>/g, '*')
      .replace(/…|\.\.\.(?!\/)/g, '*')
      .replace(/(?<![A-Z])N{2,}(?![A-Z])/g, '*');
    if (!/[*?]/.test(glob)) return folder ? folders.has(glob) : files.includes(glob) || folders.has(glob);
    const re = globRegex(glob);
    return (!folder && files.some((f) => re.test(f))) || [...folders].some((d) => re.test(d));
  });
}

// A path in code: a known top-level folder, then path characters and placeholders.
const IN_CODE = new RegExp(`(?<![\\w./:@$~-])(?:${DIRS.map((d) => d.replace('.', '\\.')).join('|')})/[\\w.*?…<>{},/-]*`, 'g');
const TOKEN = /[^\s`'"()[\]=|;]+/g;

/** Cleans a candidate: line suffixes and sentence punctuation off the end. */
function clean(raw) {
  return raw
    .replace(/#L\d+(-L?\d+)?$/, '')
    .replace(/:\d+(-\d+)?$/, '')
    .replace(/[.,:;]+$/, '')
    .replace(/^\.\//, '');
}

/** The paths a documentation file names: [line, path as written, repository path][]. */
function pathsIn(doc) {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const out = [];
  const add = (line, written, repoPath) => {
    if (!repoPath || repoPath.startsWith('..') || ignored.some((test) => test(repoPath))) return;
    out.push([line, written, repoPath]);
  };
  const fromCode = (line, code, inline) => {
    // `<this repository>/client/x.ts`: the placeholder stands for the clone's folder.
    for (const m of code.replaceAll(/(^|\s)<[^<>/]*>\//g, '$1').matchAll(IN_CODE)) {
      const written = clean(m[0]);
      if (written.includes('/')) add(line, written, written);
    }
    // Bare names only in inline code: a code block's `> .secrets.json` is a file it makes.
    if (!inline) return;
    for (const m of code.matchAll(TOKEN)) {
      const token = clean(m[0]);
      // `res.json()` is a call, not a file.
      if (!BARE.test(token) || code[m.index + m[0].length] === '(') continue;
      // A bare name is the top-level file, or one beside the doc (client/README.md's schema.d.ts).
      const beside = normalize(join(dirname(doc), token));
      add(line, token, files.includes(beside) ? beside : token);
    }
  };
  let fence = null;
  text.split('\n').forEach((lineText, i) => {
    const line = i + 1;
    const opener = /^\s*(`{3,}|~{3,})/.exec(lineText);
    if (fence) {
      if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length) fence = null;
      else fromCode(line, lineText, false);
      return;
    }
    if (opener) {
      fence = opener[1];
      return;
    }
    for (const m of lineText.matchAll(/(`+)(.+?)\1/g)) fromCode(line, m[2], true);
    // Links and images: [text](target "title"), and reference definitions [x]: target.
    const prose = lineText.replace(/(`+)(.+?)\1/g, '');
    const targets = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)];
    for (const m of targets) {
      const target = m[1];
      if (/^[a-z][a-z+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('/')) continue;
      const path = decodeURIComponent(target.replace(/[#?].*$/, ''));
      if (!path) continue;
      const repoPath = normalize(join(dirname(doc), path)).replaceAll('\\', '/');
      add(line, target, path.endsWith('/') ? `${repoPath}/` : repoPath);
    }
  });
  return out;
}

const docs = [
  'README.md',
  'SECURITY.md',
  'client/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
let checked = 0;
const missing = [];
for (const doc of docs) {
  for (const [line, written, repoPath] of pathsIn(doc)) {
    checked++;
    const ok = exists(repoPath);
    if (opts.list) console.log(`${ok ? 'ok     ' : 'MISSING'} ${doc}:${line} ${written}${written === repoPath ? '' : ` (${repoPath})`}`);
    if (!ok) missing.push(`${doc}:${line}: ${written}${written === repoPath ? '' : ` (${repoPath})`}`);
  }
}
if (missing.length) {
  console.error(`check:docs: ${missing.length} of ${checked} paths named in ${docs.length} documents do not exist:`);
  for (const m of missing) console.error(`  ${m}`);
  process.exit(1);
}
console.log(`check:docs: the ${checked} paths named in ${docs.length} documents exist.`);
