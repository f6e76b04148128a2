// `npm run -s logs -- [file …] [--msg request] [--level warn]` (`-- --help` lists the options): the
// worker's own log lines out of `wrangler dev`'s output, one JSON object per line, for jq or a file.
// wrangler colours everything (even into a pipe) and prints a console.warn line as
// `▲ [WARNING] {…}` and a console.error line as `✘ [ERROR] {…}`, each followed by blank lines, among
// its own `[wrangler:info] GET /health 200 OK` lines; a terminal then wraps the long 4xx lines. This
// strips the colours (ANSI escapes) and carriage returns, drops wrangler's `▲ [WARNING]` /
// `✘ [ERROR]` prefix, and keeps only the lines that are the worker's structured log lines: a JSON
// object with string `level` and `msg` (src/lib/log.ts; the request log is src/lib/request-log.ts).
// Reads the files given, else stdin, as it comes:  npm run dev 2>&1 | npm run -s logs
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cli, fail, UsageError } from './lib.mjs';

const LEVELS = ['info', 'warn', 'error'];
const opts = cli({
  script: 'logs',
  usage: 'npm run -s logs -- [file …] [--msg NAME] [--level info|warn|error]',
  about: `Turns wrangler dev's output into the worker's log lines, one JSON object per line: strips colours and
wrangler's "▲ [WARNING]" / "✘ [ERROR]" prefix, keeps only JSON objects with a level and a msg
(the request log, "unhandled error", "purge", …). Reads the files given (- is stdin), else stdin:
  npm run dev 2>&1 | npm run -s logs                       # live (wrangler warns on stderr: 2>&1)
  npm run dev 2>&1 | tee dev.log                           # or keep everything, then:
  npm run -s logs -- dev.log --msg request --level warn | jq -c '{route, status, ms}'
(-s keeps npm's own "> edge-api logs" banner out of the output.)`,
  options: {
    msg: ['', 'keep only lines with this msg (e.g. request)'],
    level: ['info', 'keep only lines at this level or above (info, warn, error)'],
  },
  rest: true,
  check: (o) => {
    if (!LEVELS.includes(o.level)) throw new UsageError(`--level is one of ${LEVELS.join(', ')}`);
    const option = o._.find((a) => a.startsWith('--'));
    if (option) throw new UsageError(`unknown option ${option.split('=')[0]}`);
    const missing = o._.find((a) => a !== '-' && !existsSync(a));
    if (missing) throw new UsageError(`no such file: ${missing}`);
  },
});

// CSI sequences (colours, cursor moves), OSC sequences (titles, links) and other two-byte escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escapes is the point
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
// What wrangler (esbuild's message formatter) puts before a console.warn / console.error line.
const PREFIX = /^\s*(?:[▲✘]\s*)?\[(?:WARNING|ERROR)\]\s*/;
const minLevel = LEVELS.indexOf(opts.level);

/** The worker's log line in one line of wrangler dev's output, or null. */
function logLineOf(raw) {
  const line = raw.replace(ANSI, '').replace(/\r/g, '').replace(PREFIX, '').trim();
  if (!line.startsWith('{') || !line.endsWith('}')) return null;
  let value;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  if (typeof value.level !== 'string' || typeof value.msg !== 'string') return null;
  return value;
}

async function pass(input) {
  for await (const raw of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    const entry = logLineOf(raw);
    if (!entry) continue;
    if (opts.msg && entry.msg !== opts.msg) continue;
    const level = LEVELS.indexOf(entry.level);
    if (level !== -1 && level < minLevel) continue;
    if (!process.stdout.write(`${JSON.stringify(entry)}\n`)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

// `… | npm run -s logs | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  fail('logs', err.message, 1);
});
const sources = opts._.length ? opts._ : ['-'];
for (const source of sources) await pass(source === '-' ? process.stdin : createReadStream(source));
