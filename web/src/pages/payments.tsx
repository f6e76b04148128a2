// My payments: filters (status, type, dates, title words), paging, and cancel (refund).
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { dateTime, money } from '../lib/format';
import { useAsync, useIdempotentAction } from '../lib/hooks';
import { setQuery, type Route } from '../lib/router';
import type { Page, Payment } from '../lib/types';
import { Badge, ErrorNotice, Field, formValues, ListState, Modal, Notice, Pager, PageTitle, Select } from '../components/ui';
import { checkoutUrl, METHOD_LABEL } from './catalog';

const PAGE_SIZE = 20;
const FILTERS = ['status', 'payment_type', 'from', 'to', 'search'] as const;

/** The payments page's data: the filters and page from the address, the list, and the cancel flow. */
function usePayments(route: Route) {
  const q = Object.fromEntries(FILTERS.map((k) => [k, route.query.get(k) ?? '']));
  const page = Number(route.query.get('page') ?? 1);
  const list = useAsync(() => api<Page<Payment>>('/api/me/payments', { query: { ...q, page, page_size: PAGE_SIZE } }), [...Object.values(q), page]);
  const [cancelling, setCancelling] = useState<Payment | null>(null);
  const [done, setDone] = useState<Payment | null>(null);
  return {
    q,
    page,
    list,
    filtered: Object.values(q).some(Boolean),
    cancelling,
    done,
    startCancel: (p: Payment) => {
      setDone(null);
      setCancelling(p);
    },
    /** The dialog closed: `payment` is the cancelled one, or null when the user kept it. */
    endCancel: (payment: Payment | null) => {
      setCancelling(null);
      if (payment) {
        setDone(payment);
        list.reload();
      }
    },
  };
}

export function PaymentsPage({ route }: { route: Route }) {
  const { q, page, list, filtered, cancelling, done, startCancel, endCancel } = usePayments(route);
  return (
    <section>
      <PageTitle>My payments</PageTitle>
      <PaymentFilters q={q} />
      {done && <Notice kind="success">Cancelled the payment for “{done.target_title}”; the registration is cancelled too.</Notice>}
      <ListState
        list={list}
        loading="Loading payments…"
        empty={filtered ? 'No payments match these filters.' : 'No payments yet. Apply for an exam or enroll in a course to see one here.'}
        render={(rows, busy) => <PaymentsTable payments={rows} loading={busy} onCancel={startCancel} />}
      />
      {list.data && (
        <Pager page={page} pageSize={PAGE_SIZE} count={list.data.count} hasNext={!!list.data.next} onPage={(p) => setQuery({ page: p })} />
      )}
      {cancelling && <CancelDialog payment={cancelling} onDone={endCancel} />}
    </section>
  );
}

function PaymentFilters({ q }: { q: Record<string, string> }) {
  return (
    <form class="filters" aria-label="Filter payments" onSubmit={(e: Event) => setQuery({ ...formValues(e), page: null })}>
      <Select
        label="Status"
        name="status"
        value={q.status}
        options={[
          ['', 'All'],
          ['paid', 'Paid'],
          ['pending', 'Pending'],
          ['cancelled', 'Cancelled'],
          ['refund_pending', 'Refund pending'],
          ['expired', 'Expired'],
          ['failed', 'Failed'],
        ]}
      />
      <Select
        label="Type"
        name="payment_type"
        value={q.payment_type}
        options={[
          ['', 'All'],
          ['exam', 'Exams'],
          ['course', 'Courses'],
        ]}
      />
      <Field label="From (UTC)" name="from" type="date" value={q.from} />
      <Field label="To (UTC)" name="to" type="date" value={q.to} />
      <Field label="Title contains" name="search" type="search" value={q.search} />
      <button type="submit">Filter</button>
    </form>
  );
}

function PaymentsTable({ payments, loading, onCancel }: { payments: Payment[]; loading: boolean; onCancel: (p: Payment) => void }) {
  return (
    <div class="table-wrap">
      <table class="stack" aria-busy={loading}>
        <caption class="visually-hidden">Payments, newest first</caption>
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col" class="num">
              Amount
            </th>
            <th scope="col">Method</th>
            <th scope="col">Paid</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {payments.map((p) => (
            <tr key={p.id} data-payment={p.id}>
              <td class="lead">
                {p.target_title} <small class="hint">({p.payment_type})</small>
              </td>
              <td class="num" data-label="Amount">
                {money(p.amount, p.currency)}
              </td>
              <td data-label="Method">{METHOD_LABEL[p.payment_method]}</td>
              <td data-label="Paid">{dateTime(p.paid_at)}</td>
              <td data-label="Status">
                <Badge value={p.status} />
              </td>
              <td>
                {p.status === 'pending' && p.checkout && (
                  <a class="button primary" href={checkoutUrl(p.id)} aria-label={`Pay for ${p.target_title}`}>
                    Pay
                  </a>
                )}
                {p.status === 'paid' && p.registration_status !== 'completed' && (
                  <button type="button" onClick={() => onCancel(p)} aria-label={`Cancel the payment for ${p.target_title}`}>
                    Cancel
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Confirms a cancellation; like paying, one Idempotency-Key per attempt. */
function CancelDialog({ payment, onDone }: { payment: Payment; onDone: (payment: Payment | null) => void }) {
  const { busy, error, run } = useIdempotentAction();
  const submit = (e: Event) => {
    const reason = formValues(e).reason?.trim();
    void run(async (key) => {
      onDone(await api<Payment>(`/api/payments/${payment.id}/cancel`, { body: reason ? { reason } : {}, idempotencyKey: key }));
    });
  };
  return (
    <Modal labelledBy="cancel-title" onClose={() => onDone(null)}>
      <form onSubmit={submit}>
        <h2 id="cancel-title">Cancel this payment?</h2>
        <p>
          “{payment.target_title}”, {money(payment.amount, payment.currency)}. The registration is cancelled as well.
        </p>
        <Field label="Reason (optional)" name="reason" maxlength={500} />
        <ErrorNotice error={error} />
        <div class="actions">
          <button type="submit" class="danger" disabled={busy}>
            {busy ? 'Cancelling…' : 'Cancel payment'}
          </button>
          <button type="button" onClick={() => onDone(null)}>
            Keep it
          </button>
        </div>
      </form>
    </Modal>
  );
}
