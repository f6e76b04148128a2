// Structured log lines: one JSON object per line with `level` and `msg`, so `wrangler tail
// --format json` and Workers Logs can filter on any field (docs/operations.md). Never put a token,
// password, code or full phone number in one: tests/log-guard.ts fails the suite when a line does.
export type Level = 'info' | 'warn' | 'error';

export function logLine(level: Level, msg: string, fields: object): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/**
 * An error for a log line: name, message and stack, with the bound values of a failed query cut
 * out (drizzle's message ends with `params: …`, which may hold a phone number or a token hash).
 */
export function errorText(err: unknown): string {
  return withoutParams(err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err));
}

/** An error in one line: name and message of it and of its causes, without query values. */
export function errorSummary(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 4; e = e instanceof Error ? e.cause : undefined) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  return withoutParams(parts.join(' ← ')).replace(/\s+/g, ' ');
}

const withoutParams = (text: string) => text.replace(/\bparams: [\s\S]*?(?=\n\s+at | ← |$)/g, 'params: [not logged]');
