// Recognises a unique-index violation on either backend (drizzle wraps driver errors in `cause`):
// D1/SQLite says "UNIQUE constraint failed: users.email"; Postgres gives code 23505 and
// "Key (email)=(…) already exists." in `detail`.

/** The columns of the unique index a failed write hit, or null for any other error. */
export function uniqueViolation(err: unknown): string[] | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const sqlite = /UNIQUE constraint failed: ([\w., ]+)/.exec(e.message);
    if (sqlite) return sqlite[1]!.split(',').map((c) => c.trim().split('.').pop()!);
    const pg = e as Error & { code?: string; detail?: string };
    if (pg.code === '23505') {
      const key = /Key \(([^)]*)\)=/.exec(pg.detail ?? '');
      return key ? key[1]!.split(',').map((c) => c.trim().replace(/"/g, '')) : [];
    }
  }
  return null;
}

/**
 * The name of the CHECK (or the guard trigger standing in for one on D1) a failed write hit, if it
 * is one of `names`: SQLite says "CHECK constraint failed: name" or the trigger's RAISE message;
 * Postgres gives code 23514 and the constraint.
 */
export function checkViolation(err: unknown, names: readonly string[]): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const pg = e as Error & { code?: string; constraint?: string };
    if (pg.code === '23514' && pg.constraint && names.includes(pg.constraint)) return pg.constraint;
    const named = names.find((n) => e instanceof Error && e.message.includes(n));
    if (named) return named;
  }
  return null;
}
