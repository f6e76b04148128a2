// Staff: live sales per hour or day for a chosen range and time zone (first purchases marked), and
// the best-selling products. Figures refresh every 30 s while the page is open. Amounts are plain
// numbers in the server's currency (the dashboard answers carry no `currency`).
import { useMemo, useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { count, isoDay } from '../lib/format';
import { useAsync, usePageEffect } from '../lib/hooks';
import { setQuery, type Route } from '../lib/router';
import type { ProductSales, SalesBucket } from '../lib/types';
import { BarChart, baseOptions } from '../components/chart';
import { Empty, ErrorNotice, Field, formValues, Loading, PageTitle, Select } from '../components/ui';

const REFRESH_MS = 30_000;
const FIRST = '#d9480f';
const REPEAT = '#1c7ed6';

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
const zones = (): string[] => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []);

/** The wall-clock label of a bucket: its datetime already carries the chosen zone's offset. */
function bucketLabel(datetime: string, interval: string, multiDay: boolean): string {
  if (interval === 'day') return datetime.slice(0, 10);
  const hour = datetime.slice(11, 16);
  return multiDay ? `${datetime.slice(5, 10)} ${hour}` : hour;
}

export function DashboardPage({ route }: { route: Route }) {
  const q = route.query;
  const today = isoDay(new Date());
  const start = q.get('start') || today;
  const end = q.get('end') || today;
  const interval = q.get('interval') || 'hour';
  const tz = q.get('tz') || browserZone();
  const [auto, setAuto] = useState(true);
  const range = { 'start-date': start, 'end-date': end, timezone: tz };
  const sales = useAsync(
    () => api<{ results: SalesBucket[] }>('/api/dashboards/live-sales', { query: { ...range, interval } }),
    [start, end, interval, tz],
  );
  const top = useAsync(() => api<{ results: ProductSales[] }>('/api/dashboards/sales-chart', { query: { ...range, limit: 10 } }), [start, end, tz]);

  usePageEffect(() => {
    if (!auto) return;
    const timer = setInterval(() => {
      sales.reload();
      top.reload();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [auto]);

  return (
    <section>
      <PageTitle>Live sales</PageTitle>
      <form class="filters" aria-label="Range" onSubmit={(e: Event) => setQuery(formValues(e))}>
        <Field label="From" name="start" type="date" value={start} required />
        <Field label="To" name="end" type="date" value={end} required />
        <Select
          label="Per"
          name="interval"
          value={interval}
          options={[
            ['hour', 'Hour'],
            ['day', 'Day'],
          ]}
        />
        <Field label="Time zone" name="tz" value={tz} list="zones" required />
        <datalist id="zones">
          {zones().map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <button type="submit">Show</button>
        <label class="choice">
          <input type="checkbox" checked={auto} onChange={(e: Event) => setAuto((e.target as HTMLInputElement).checked)} /> Refresh every 30 s
        </label>
      </form>
      <ErrorNotice error={sales.error} />
      {sales.loading && !sales.data ? (
        <Loading what="Loading sales…" />
      ) : (
        sales.data && <SalesFigures buckets={sales.data.results} interval={interval} multiDay={start !== end} />
      )}
      <h2>Top products</h2>
      <ErrorNotice error={top.error} />
      {top.loading && !top.data ? <Loading what="Loading products…" /> : top.data && <TopProducts rows={top.data.results} />}
    </section>
  );
}

/** What the sales figures show: the totals, the chart, its text summary and the table's rows. */
function useSalesFigures(buckets: SalesBucket[], interval: string, multiDay: boolean) {
  const [showEmpty, setShowEmpty] = useState(false);
  const totals = buckets.reduce(
    (t, b) => ({
      amount: t.amount + b.total_amount,
      first: t.first + b.first_purchase_count,
      firstAmount: t.firstAmount + b.first_purchase_amount,
      coupons: t.coupons + b.coupon_amount,
    }),
    { amount: 0, first: 0, firstAmount: 0, coupons: 0 },
  );
  const labels = buckets.map((b) => bucketLabel(b.datetime, interval, multiDay));
  const config = useMemo(
    () => ({
      type: 'bar' as const,
      data: {
        labels,
        datasets: [
          { label: 'First purchases', data: buckets.map((b) => b.first_purchase_amount), backgroundColor: FIRST, stack: 'sales' },
          { label: 'Repeat purchases', data: buckets.map((b) => b.total_amount - b.first_purchase_amount), backgroundColor: REPEAT, stack: 'sales' },
        ],
      },
      options: { ...baseOptions(), scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    }),
    [buckets],
  );
  const peak = buckets.reduce<SalesBucket | null>((p, b) => (!p || b.total_amount > p.total_amount ? b : p), null);
  const summary =
    `Sales per ${interval}: ${count(totals.amount)} in total, ${totals.first} first purchases` +
    (peak && peak.total_amount > 0 ? `; peak ${count(peak.total_amount)} at ${bucketLabel(peak.datetime, interval, multiDay)}` : '');
  const rows = showEmpty ? buckets : buckets.filter((b) => b.total_amount > 0 || b.customer_count > 0);

  return { totals, config, summary, rows, showEmpty, setShowEmpty };
}

function SalesFigures({ buckets, interval, multiDay }: { buckets: SalesBucket[]; interval: string; multiDay: boolean }) {
  const { totals, config, summary, rows, showEmpty, setShowEmpty } = useSalesFigures(buckets, interval, multiDay);
  return (
    <>
      <ul class="stats" aria-label="Totals">
        <li>
          <span>Sales</span> <strong data-testid="total-sales">{count(totals.amount)}</strong>
        </li>
        <li>
          <span>First purchases</span> <strong>{count(totals.first)}</strong> <small>{count(totals.firstAmount)}</small>
        </li>
        <li>
          <span>Coupons</span> <strong>{count(totals.coupons)}</strong>
        </li>
      </ul>
      {totals.amount === 0 ? <Empty>No sales in this range.</Empty> : <BarChart summary={summary} config={config} />}
      <label class="choice">
        <input type="checkbox" checked={showEmpty} onChange={(e: Event) => setShowEmpty((e.target as HTMLInputElement).checked)} /> Show {interval}s
        without sales
      </label>
      {rows.length > 0 && <SalesTable rows={rows} interval={interval} multiDay={multiDay} />}
    </>
  );
}

function SalesTable({ rows, interval, multiDay }: { rows: SalesBucket[]; interval: string; multiDay: boolean }) {
  return (
    <div class="table-wrap">
      <table class="figures stack">
        <caption class="visually-hidden">Sales per {interval}</caption>
        <thead>
          <tr>
            <th scope="col">{interval === 'hour' ? 'Hour' : 'Day'}</th>
            <th scope="col" class="num">
              Sales
            </th>
            <th scope="col" class="num">
              Customers
            </th>
            <th scope="col" class="num">
              Coupons
            </th>
            <th scope="col" class="num">
              First purchases
            </th>
            <th scope="col" class="num">
              First purchase sales
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((b) => (
            <tr key={b.datetime} class={b.first_purchase_count > 0 ? 'first' : ''}>
              <th scope="row">
                <time datetime={b.datetime}>{bucketLabel(b.datetime, interval, multiDay)}</time>
              </th>
              <td class="num" data-label="Sales">
                {count(b.total_amount)}
              </td>
              <td class="num" data-label="Customers">
                {count(b.customer_count)}
              </td>
              <td class="num" data-label="Coupons">
                {count(b.coupon_amount)}
              </td>
              <td class="num" data-label="First purchases">
                {b.first_purchase_count > 0 ? (
                  <span class="first-mark" title="Includes first purchases">
                    ★ {count(b.first_purchase_count)}
                  </span>
                ) : (
                  0
                )}
              </td>
              <td class="num" data-label="First purchase sales">
                {count(b.first_purchase_amount)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TopProducts({ rows }: { rows: ProductSales[] }) {
  const config = useMemo(
    () => ({
      type: 'bar' as const,
      data: {
        labels: rows.map((r) => r.product_name),
        datasets: [{ label: 'Quantity sold', data: rows.map((r) => r.quantity), backgroundColor: REPEAT }],
      },
      options: { ...baseOptions(true), scales: { x: { beginAtZero: true } } },
    }),
    [rows],
  );
  if (rows.length === 0) return <Empty>No products sold in this range.</Empty>;
  const summary = `Top products by quantity: ${rows
    .slice(0, 3)
    .map((r) => `${r.product_name} ${count(r.quantity)}`)
    .join(', ')}`;
  return (
    <>
      <BarChart summary={summary} config={config} />
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">Best-selling products</caption>
          <thead>
            <tr>
              <th scope="col" class="num">
                #
              </th>
              <th scope="col">Product</th>
              <th scope="col" class="num">
                Quantity
              </th>
              <th scope="col" class="num">
                Sales
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={r.product_id}>
                <td class="num">{i + 1}</td>
                <td>{r.product_name}</td>
                <td class="num">{count(r.quantity)}</td>
                <td class="num">{count(r.total_amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
