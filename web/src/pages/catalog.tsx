// Exams and courses: search, filters, sort and paging; apply (exams) or enroll (courses) and pay.
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { date, money } from '../lib/format';
import { useAsync, useIdempotentAction } from '../lib/hooks';
import { setQuery, type Route } from '../lib/router';
import { PAYMENT_METHODS, type Item, type Kind, type Page, type Payment, type PaymentMethod } from '../lib/types';
import { Badge, ErrorNotice, formValues, ListState, Modal, Notice, Pager, PageTitle, Select } from '../components/ui';

const PAGE_SIZE = 10;
const ACTION: Record<Kind, { verb: string; path: string; noun: string }> = {
  exams: { verb: 'Apply', path: 'apply', noun: 'exam' },
  courses: { verb: 'Enroll', path: 'enroll', noun: 'course' },
};
export const METHOD_LABEL: Record<PaymentMethod, string> = { card: 'Card', kakaopay: 'KakaoPay', bank_transfer: 'Bank transfer' };

/** The page that pays a pending payment with the provider's browser SDK (served by the worker). */
export const checkoutUrl = (paymentId: number) => `/api/payments/checkout?payment=${paymentId}`;

export function CatalogPage({ kind, route }: { kind: Kind; route: Route }) {
  const q = route.query;
  const search = q.get('search') ?? '';
  const status = q.get('status') ?? '';
  const sort = q.get('sort') ?? 'created';
  const page = Number(q.get('page') ?? 1);
  const list = useAsync(
    () => api<Page<Item>>(`/api/${kind}`, { query: { search, status, sort, page, page_size: PAGE_SIZE } }),
    [kind, search, status, sort, page],
  );
  const [paying, setPaying] = useState<Item | null>(null);
  const [paid, setPaid] = useState<Payment | null>(null);
  const title = kind === 'exams' ? 'Exams' : 'Courses';

  const applyFilters = (e: Event) => setQuery({ ...formValues(e), page: null });
  return (
    <section>
      <PageTitle>{title}</PageTitle>
      <form class="filters" role="search" aria-label={`Search ${kind}`} onSubmit={applyFilters}>
        <div class="field grow">
          <label for="catalog-search">Search</label>
          <input id="catalog-search" type="search" name="search" value={search} placeholder="Words in the title or description" />
        </div>
        <Select
          label="Show"
          name="status"
          value={status}
          options={[
            ['', 'All'],
            ['available', 'Open for registration now'],
          ]}
          onChange={(v) => setQuery({ status: v, page: null })}
        />
        <Select
          label="Sort by"
          name="sort"
          value={sort}
          options={[
            ['created', 'Newest'],
            ['popular', 'Most popular'],
          ]}
          onChange={(v) => setQuery({ sort: v, page: null })}
        />
        <button type="submit">Search</button>
      </form>
      {paid && (
        <Notice kind="success">
          Paid {money(paid.amount, paid.currency)} for “{paid.target_title}”. <a href="#/payments">See my payments</a>
        </Notice>
      )}
      <ListState
        list={list}
        loading={`Loading ${kind}…`}
        empty={search || status ? `No ${kind} match these filters.` : `There are no ${kind} yet.`}
        render={(rows, busy) => (
          <ul class="items" aria-busy={busy}>
            {rows.map((item) => (
              <ItemCard
                key={item.id}
                kind={kind}
                item={item}
                onPay={() => {
                  setPaid(null);
                  setPaying(item);
                }}
              />
            ))}
          </ul>
        )}
      />
      {list.data && (
        <Pager page={page} pageSize={PAGE_SIZE} count={list.data.count} hasNext={!!list.data.next} onPage={(p) => setQuery({ page: p })} />
      )}
      {paying && (
        <PayDialog
          kind={kind}
          item={paying}
          onDone={(payment) => {
            setPaying(null);
            if (payment) {
              setPaid(payment);
              list.reload();
            }
          }}
        />
      )}
    </section>
  );
}

function ItemCard({ kind, item, onPay }: { kind: Kind; item: Item; onPay: () => void }) {
  const now = Date.now();
  const open = Date.parse(item.start_at) <= now && now <= Date.parse(item.end_at);
  return (
    <li class="card item" aria-labelledby={`item-${item.id}`}>
      <h2 id={`item-${item.id}`}>{item.title}</h2>
      {item.description && <p class="description">{item.description}</p>}
      <dl class="meta">
        <dt>Price</dt>
        <dd>{money(item.price, item.currency)}</dd>
        <dt>Period</dt>
        <dd>
          {date(item.start_at)} – {date(item.end_at)}
        </dd>
        <dt>Registered</dt>
        <dd>{item.registration_count}</dd>
      </dl>
      <div class="actions">
        {item.is_registered ? (
          <Badge value="Registered" kind="success" />
        ) : (
          <button type="button" class="primary" onClick={onPay} disabled={!open} aria-label={`${ACTION[kind].verb}: ${item.title}`}>
            {ACTION[kind].verb}
          </button>
        )}
        {!open && !item.is_registered && <small class="hint">Not open for registration now</small>}
      </div>
    </li>
  );
}

/** The payment dialog: the amount is the price; see useIdempotentAction for double clicks. */
function PayDialog({ kind, item, onDone }: { kind: Kind; item: Item; onDone: (payment: Payment | null) => void }) {
  const [method, setMethod] = useState<PaymentMethod>('card');
  const { busy, error, run, renewKey } = useIdempotentAction();
  const pay = (e: Event) => {
    e.preventDefault();
    void run(async (key) => {
      const body = { amount: item.price, payment_method: method };
      const result = await api<{ payment: Payment }>(`/api/${kind}/${item.id}/${ACTION[kind].path}`, { body, idempotencyKey: key });
      // A real provider: the payment waits for the provider's browser SDK, on the checkout page.
      if (result.payment.status === 'pending' && result.payment.checkout) return location.assign(checkoutUrl(result.payment.id));
      onDone(result.payment);
    });
  };
  const choose = (m: PaymentMethod) => {
    renewKey();
    setMethod(m);
  };
  return (
    <Modal labelledBy="pay-title" onClose={() => onDone(null)}>
      <form onSubmit={pay}>
        <h2 id="pay-title">
          {ACTION[kind].verb}: {item.title}
        </h2>
        <p>
          Amount: <strong>{money(item.price, item.currency)}</strong>
        </p>
        <fieldset>
          <legend>Payment method</legend>
          {PAYMENT_METHODS.map((m) => (
            <label key={m} class="choice">
              <input type="radio" name="payment_method" value={m} checked={method === m} onChange={() => choose(m)} /> {METHOD_LABEL[m]}
            </label>
          ))}
        </fieldset>
        <ErrorNotice error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Paying…' : `Pay ${money(item.price, item.currency)}`}
          </button>
          <button type="button" onClick={() => onDone(null)}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
