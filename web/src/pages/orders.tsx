// Staff: every order, newest first, filtered by status, customer, local dates and a minimum total
// (GET /api/orders, paged by cursor); record an order, open one by id and move it through its
// statuses. The filters and the cursor live in the address, so Back returns to the previous page.
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { dateTime, money } from '../lib/format';
import { useAction, useAsync } from '../lib/hooks';
import { setQuery, type Route } from '../lib/router';
import type { Order, OrderPage, OrderStatus, Page, Product } from '../lib/types';
import { Badge, Empty, ErrorNotice, Field, formValues, ListState, Loading, PageTitle, Select } from '../components/ui';

const PAGE_SIZE = 20;
const FILTERS = ['status', 'customer_id', 'from', 'to', 'min_total'] as const;
const NEXT: Record<OrderStatus, OrderStatus[]> = {
  PENDING: ['PAID', 'CANCELLED'],
  PAID: ['SHIPPING', 'COMPLETED', 'CANCELLED'],
  SHIPPING: ['COMPLETED', 'CANCELLED'],
  COMPLETED: ['CANCELLED'],
  CANCELLED: [],
};

export function OrdersPage({ route }: { route: Route }) {
  const [open, setOpen] = useState<Order | null>(null);
  // The list reloads after a write; it loads in its own component, so its loading never re-renders
  // (and resets) the forms above it.
  const [writes, setWrites] = useState(0);
  const show = (order: Order) => {
    setOpen(order);
    setWrites((n) => n + 1);
  };
  return (
    <section>
      <PageTitle>Orders</PageTitle>
      <div class="cards two">
        <RecordOrder onRecorded={show} />
        <FindOrder onFound={setOpen} />
      </div>
      {open && <OrderDetail order={open} onChanged={show} />}
      <OrdersList route={route} writes={writes} onOpen={setOpen} />
    </section>
  );
}

function OrdersList({ route, writes, onOpen }: { route: Route; writes: number; onOpen: (o: Order) => void }) {
  const q = Object.fromEntries(FILTERS.map((k) => [k, route.query.get(k) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const cursor = route.query.get('cursor') ?? '';
  const filters = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== ''));
  const list = useAsync(
    () => api<OrderPage>('/api/orders', { query: { ...filters, page_size: PAGE_SIZE, ...(cursor ? { cursor } : {}) } }),
    [...Object.values(q), cursor, writes],
  );
  const filtered = Object.keys(filters).length > 0;
  return (
    <>
      <h2>{filtered ? 'Orders matching the filters' : 'All orders'}, newest first</h2>
      <OrderFilters q={q} />
      <ListState
        list={list}
        loading="Loading orders…"
        empty={filtered ? 'No orders match these filters.' : cursor ? 'No older orders.' : 'No orders yet. Record one above.'}
        render={(rows, busy) => <OrdersTable orders={rows} loading={busy} onOpen={onOpen} />}
      />
      {list.data && (cursor || list.data.next_cursor) && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={!cursor} onClick={() => setQuery({ cursor: null })}>
            ← Newest
          </button>
          <button type="button" disabled={!list.data.next_cursor} onClick={() => setQuery({ cursor: list.data?.next_cursor ?? null })}>
            Older →
          </button>
        </nav>
      )}
    </>
  );
}

function OrderFilters({ q }: { q: Record<(typeof FILTERS)[number], string> }) {
  return (
    <form class="filters" aria-label="Filter orders" onSubmit={(e: Event) => setQuery({ ...formValues(e), cursor: null })}>
      <Select
        label="Status"
        name="status"
        value={q.status}
        options={[['', 'All'], ...(['PENDING', 'PAID', 'SHIPPING', 'COMPLETED', 'CANCELLED'] as const).map((s): [string, string] => [s, s])]}
      />
      <Field label="Customer id" name="customer_id" type="number" min={1} value={q.customer_id} />
      <Field label="From (Seoul date)" name="from" type="date" value={q.from} />
      <Field label="To (Seoul date)" name="to" type="date" value={q.to} />
      <Field label="Total at least" name="min_total" type="number" min={0} value={q.min_total} />
      <button type="submit">Filter</button>
    </form>
  );
}

function OrdersTable({ orders, loading, onOpen }: { orders: Order[]; loading: boolean; onOpen: (o: Order) => void }) {
  return (
    <div class="table-wrap">
      <table class="stack" aria-busy={loading}>
        <caption class="visually-hidden">Orders, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Created</th>
            <th scope="col" class="num">
              Customer
            </th>
            <th scope="col">Items</th>
            <th scope="col" class="num">
              Total
            </th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr key={o.id} data-order={o.id}>
              <td>
                <button type="button" class="link" onClick={() => onOpen(o)} aria-label={`Open order ${o.id}`}>
                  #{o.id}
                </button>
              </td>
              <td>{dateTime(o.created_at)}</td>
              <td class="num">{o.customer_id}</td>
              <td>{o.items.map((i) => `${i.quantity} × ${i.product_name}`).join(', ')}</td>
              <td class="num">{money(o.total_price, o.currency)}</td>
              <td>
                <Badge value={o.status} /> {o.is_first_purchase && <Badge value="first purchase" kind="first" />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RecordOrder({ onRecorded }: { onRecorded: (order: Order) => void }) {
  const products = useAsync(() => api<Page<Product>>('/api/products', { query: { page_size: 100 } }), []);
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    const v = formValues(e);
    const body: Record<string, unknown> = {
      customer_id: Number(v.customer_id),
      items: [{ product_id: Number(v.product_id), quantity: Number(v.quantity) }],
      discount_price: Number(v.discount_price || 0),
      delivery_price: Number(v.delivery_price || 0),
      status: v.status,
    };
    if (v.payment_method?.trim()) body.payment_method = v.payment_method.trim();
    if (v.paid_at) body.paid_at = new Date(v.paid_at).toISOString();
    void run(async () => onRecorded(await api<Order>('/api/orders', { body })));
  };
  const options = (products.data?.results ?? []).map((p): [string, string] => [String(p.id), `${p.name} (${money(p.price, p.currency)})`]);
  return (
    <form class="card" onSubmit={submit} aria-labelledby="record-order">
      <h2 id="record-order">Record an order</h2>
      <Field label="Customer (user id)" name="customer_id" type="number" min={1} required />
      {products.loading ? (
        <Loading what="Loading products…" />
      ) : options.length === 0 ? (
        <Empty>Add a product first.</Empty>
      ) : (
        <Select label="Product" name="product_id" options={options} />
      )}
      <Field label="Quantity" name="quantity" type="number" min={1} max={10000} value={1} required />
      <Field label="Discount" name="discount_price" type="number" min={0} value={0} />
      <Field label="Delivery" name="delivery_price" type="number" min={0} value={0} />
      <Field label="Payment method (optional)" name="payment_method" maxlength={50} />
      <Select
        label="Status"
        name="status"
        value="PAID"
        options={(['PAID', 'PENDING', 'SHIPPING', 'COMPLETED', 'CANCELLED'] as const).map((s) => [s, s])}
      />
      <Field label="Paid at (optional, your time)" name="paid_at" type="datetime-local" hint="Default: now." />
      <ErrorNotice error={error ?? products.error} />
      <button type="submit" class="primary" disabled={busy || options.length === 0}>
        {busy ? 'Recording…' : 'Record order'}
      </button>
    </form>
  );
}

function FindOrder({ onFound }: { onFound: (order: Order) => void }) {
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    const id = Number(formValues(e).id);
    void run(async () => onFound(await api<Order>(`/api/orders/${id}`)));
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="find-order">
      <h2 id="find-order">Open an order</h2>
      <Field label="Order id" name="id" type="number" min={1} required />
      <ErrorNotice error={error} />
      <button type="submit" disabled={busy}>
        Open
      </button>
    </form>
  );
}

function OrderDetail({ order, onChanged }: { order: Order; onChanged: (order: Order) => void }) {
  const { busy, error, run } = useAction();
  const move = (status: OrderStatus) =>
    void run(async () => onChanged(await api<Order>(`/api/orders/${order.id}`, { method: 'PATCH', body: { status } })));
  return (
    <section class="card" aria-labelledby="order-title">
      <h2 id="order-title">
        Order #{order.id} <Badge value={order.status} /> {order.is_first_purchase && <Badge value="first purchase" kind="first" />}
      </h2>
      <dl class="meta">
        <dt>Customer</dt>
        <dd>{order.customer_id}</dd>
        <dt>Items</dt>
        <dd>
          {order.items.map((i) => (
            <div key={i.product_id}>
              {i.quantity} × {i.product_name} at {money(i.unit_price, order.currency)}
            </div>
          ))}
        </dd>
        <dt>Total</dt>
        <dd>
          {money(order.total_price, order.currency)}{' '}
          <small class="hint">
            (items {money(order.item_price, order.currency)} − discount {money(order.discount_price, order.currency)} + delivery{' '}
            {money(order.delivery_price, order.currency)})
          </small>
        </dd>
        <dt>Paid</dt>
        <dd>{dateTime(order.paid_at)}</dd>
      </dl>
      <div class="actions" role="group" aria-label="Change status">
        {NEXT[order.status].map((s) => (
          <button type="button" key={s} disabled={busy} onClick={() => move(s)} class={s === 'CANCELLED' ? 'danger' : ''}>
            Mark {s.toLowerCase()}
          </button>
        ))}
        {NEXT[order.status].length === 0 && <small class="hint">A cancelled order is final.</small>}
      </div>
      <ErrorNotice error={error} />
    </section>
  );
}
