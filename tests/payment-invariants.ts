// Money invariants, checked after every provider test against the database and the fake provider's
// own books: each paid payment has its active registration and is counted exactly once; no refund
// at the provider without a payment that was given up (cancelled, refund_pending, failed, expired);
// no cancelled payment that was paid without its refund (or a pending retry); never more refunded
// than received.
import { expect } from 'vitest';
import { db, sql } from './db';

interface Row {
  id: number;
  status: string;
  amount: number;
  provider: string;
  external_transaction_id: string;
  reg_status: string | null;
  reg_payment_id: number | null;
}

/** What the fake provider knows: received and refunded amounts per provider payment id. */
export interface ProviderBooks {
  provider: 'stripe' | 'portone';
  received(id: string): number;
  refunded(id: string): number;
  ids(): string[];
}

export async function expectMoneyInvariants(books: ProviderBooks): Promise<void> {
  const rows = await db.rows<Row>(sql`SELECT p.id, p.status, p.amount, p.provider, p.external_transaction_id,
      r.status AS reg_status, r.payment_id AS reg_payment_id
    FROM payments p LEFT JOIN registrations r ON r.user_id = p.user_id AND r.kind = p.payment_type AND r.item_id = p.target_id
    WHERE p.provider = ${books.provider}`);
  const problems: string[] = [];
  for (const p of rows) {
    const current = p.reg_payment_id === p.id;
    const received = books.received(p.external_transaction_id);
    const refunded = books.refunded(p.external_transaction_id);
    if (refunded > received) problems.push(`payment ${p.id}: refunded ${refunded} > received ${received}`);
    if (p.status === 'paid') {
      if (!current || !['applied', 'enrolled', 'completed'].includes(p.reg_status ?? ''))
        problems.push(`paid payment ${p.id} without its active registration`);
      if (received !== p.amount) problems.push(`paid payment ${p.id}: provider received ${received}, not ${p.amount}`);
      if (refunded !== 0) problems.push(`paid payment ${p.id} was refunded ${refunded}`);
    } else if (current && p.reg_status !== 'cancelled' && p.reg_status !== 'pending') {
      problems.push(`${p.status} payment ${p.id} with an active registration (${p.reg_status})`);
    }
    if (p.status === 'pending' && current && p.reg_status !== 'pending') problems.push(`pending payment ${p.id}: registration ${p.reg_status}`);
    if (p.status === 'cancelled' && received > 0 && refunded !== received)
      problems.push(`cancelled payment ${p.id}: received ${received}, refunded ${refunded}`);
    if (['expired', 'failed'].includes(p.status) && received > 0 && refunded !== received)
      problems.push(`${p.status} payment ${p.id} kept ${received - refunded}`);
  }
  const known = new Set(rows.map((r) => r.external_transaction_id));
  for (const id of books.ids()) if (books.refunded(id) > 0 && !known.has(id)) problems.push(`refund for unknown provider payment ${id}`);
  // Counted once: every item's registration_count is its active registrations.
  for (const table of ['exams', 'courses']) {
    const kind = table === 'exams' ? 'exam' : 'course';
    const off = await db.rows<{ id: number; n: number; active: number }>(
      sql`SELECT i.id, i.registration_count AS n, (SELECT count(*) FROM registrations r WHERE r.kind = ${kind} AND r.item_id = i.id
        AND r.status IN ('applied', 'enrolled', 'completed')) AS active FROM ${sql.raw(table)} i`,
    );
    for (const o of off) if (Number(o.n) !== Number(o.active)) problems.push(`${table} ${o.id}: registration_count ${o.n}, active ${o.active}`);
  }
  expect(problems).toEqual([]);
}
