// Staff: record an order, open one by id and move it through its statuses. The API has no order
// list, so the page lists the orders recorded or opened in this browser tab (sessionStorage).
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { dateTime, money } from '../lib/format';
import { useAction, useAsync } from '../lib/hooks';
import type { Order, OrderStatus, Page, Product } from '../lib/types';
import { Badge, Empty, ErrorNotice, Field, formValues, Loading, PageTitle, Select } from '../components/ui';

const RECENT_KEY = 'edge-console.recent-orders';
const NEXT: Record<OrderStatus, OrderStatus[]> = {
  PENDING: ['PAID', 'CANCELLED'],
  PAID: ['SHIPPING', 'COMPLETED', 'CANCELLED'],
  SHIPPING: ['COMPLETED', 'CANCELLED'],
  COMPLETED: ['CANCELLED'],
  CANCELLED: [],
};

function readRecent(): Order[] {
  try {
    return JSON.parse(sessionStorage.getItem(RECENT_KEY) ?? '[]') as Order[];
  } catch {
    return [];
  }
}

export function OrdersPage() {
  const [recent, setRecent] = useState<Order[]>(readRecent);
  const [open, setOpen] = useState<Order | null>(null);
  const remember = (order: Order) => {
    const next = [order, ...recent.filter((o) => o.id !== order.id)].slice(0, 50);
    sessionStorage.setItem(RECENT_KEY, JSON.stringify(next));
    setRecent(next);
    setOpen(order);
  };
  return (
    <section>
      <PageTitle>Orders</PageTitle>
      <div class="cards two">
        <RecordOrder onRecorded={remember} />
        <FindOrder onFound={remember} />
      </div>
      {open && <OrderDetail order={open} onChanged={remember} />}
      <h2>Recorded or opened in this tab</h2>
      {recent.length === 0 ? (
        <Empty>No orders yet. Record one, or open one by its id.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Recent orders</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col" class="num">
                  Customer
                </th>
                <th scope="col" class="num">
                  Total
                </th>
                <th scope="col">Status</th>
                <th scope="col">Paid</th>
              </tr>
            </thead>
            <tbody>
              {recent.map((o) => (
                <tr key={o.id}>
                  <td>
                    <button type="button" class="link" onClick={() => setOpen(o)} aria-label={`Open order ${o.id}`}>
                      #{o.id}
                    </button>
                  </td>
                  <td class="num">{o.customer_id}</td>
                  <td class="num">{money(o.total_price, o.currency)}</td>
                  <td>
                    <Badge value={o.status} /> {o.is_first_purchase && <Badge value="first purchase" kind="first" />}
                  </td>
                  <td>{dateTime(o.paid_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
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
