// `npm run check:imports` (`-- --help` lists the options): fails when src/ has an import circle.
// Every import counts, type-only ones included (`import type`, `export … from`, `import()`): a circle
// of types is still a circle a reader has to hold in their head, and the next value import along it
// makes it a load-order problem. TypeScript's own pre-processor finds the imports (no regex over
// comments or strings); relative specifiers resolve as the bundler does (`x` → x.ts, x/index.ts).
// Prints each strongly connected component of more than one file (and files importing themselves).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { cli, ROOT } from './lib.mjs';

const opts = cli({
  script: 'check:imports',
  usage: 'npm run check:imports [-- --dir src] [-- --edges]',
  about: `Builds the import graph of the TypeScript files under --dir (type imports included), prints
its strongly connected components of more than one file, and exits 1 when there is one.`,
  options: {
    dir: ['src', 'the folder to check, relative to the repository'],
    edges: [false, 'also print, for each circle, the imports between its files'],
  },
});

const base = resolve(ROOT, opts.dir);
const files = walk(base).filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'));
const known = new Set(files);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const circles = components(graph).filter((c) => c.length > 1 || graph.get(c[0]).includes(c[0]));
const name = (f) => relative(ROOT, f);

if (circles.length === 0) {
  console.log(`${files.length} files under ${opts.dir}/, no import circle.`);
  process.exit(0);
}
for (const [i, circle] of circles.entries()) {
  console.log(`circle ${i + 1}: ${circle.length} files`);
  const members = new Set(circle);
  for (const f of circle.sort()) {
    console.log(`  ${name(f)}`);
    if (opts.edges) for (const to of graph.get(f).filter((t) => members.has(t))) console.log(`      → ${name(to)}`);
  }
}
console.log(`${files.length} files under ${opts.dir}/, ${circles.length} import circle(s).`);
process.exit(1);

function walk(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** The files under --dir that `file` imports (bare specifiers are packages, not part of the graph). */
function importsOf(file) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return [...new Set(importedFiles.map((i) => i.fileName).filter((s) => s.startsWith('.')))]
    .map((spec) => resolveFile(resolve(dirname(file), spec)))
    .filter((f) => known.has(f));
}

function resolveFile(path) {
  const stripped = path.replace(/\.(?:m?js|tsx?)$/, '');
  for (const candidate of [`${stripped}.ts`, `${stripped}.tsx`, join(stripped, 'index.ts'), join(stripped, 'index.tsx')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Tarjan's strongly connected components. */
function components(g) {
  let index = 0;
  const indexOf = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const visit = (v) => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v)) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indexOf.get(w)));
    }
    if (low.get(v) === indexOf.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      out.push(scc);
    }
  };
  for (const v of g.keys()) if (!indexOf.has(v)) visit(v);
  return out;
}
