// The health check's one query: a real round trip to the database, reading nothing.
import { sql } from 'drizzle-orm';
import type { Store } from '../../db/store';

export async function ping(s: Store): Promise<void> {
  await s.rows(sql`SELECT 1 AS ok`);
}
