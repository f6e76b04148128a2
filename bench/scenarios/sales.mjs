// Sales dashboards at the seeded volume (`npm run seed -- --users 10000 --products 1000 --orders 1000000`):
// each request reads only the pre-aggregated tables. Ranges end now and use the default zone (Asia/Seoul).
function day(offsetDays) {
  // The Seoul calendar date `offsetDays` from today (Seoul has no DST: a fixed +9 h is exact here).
  return new Date(Date.now() + 9 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

export default async function sales(ctx) {
  const token = ctx.staffToken;
  if (!token) throw new Error('the dashboards need the staff login, which failed');
  const today = day(0);
  const live = (q) => `/api/dashboards/live-sales?${q}`;
  return [
    { name: 'live-sales 1 day hourly', path: live(`start-date=${today}&end-date=${today}`), token },
    { name: 'live-sales 31 days hourly', path: live(`start-date=${day(-30)}&end-date=${today}&interval=hour`), token },
    { name: 'live-sales 365 days daily', path: live(`start-date=${day(-364)}&end-date=${today}&interval=day`), token },
    { name: 'sales-chart 31 days', path: `/api/dashboards/sales-chart?start-date=${day(-30)}&end-date=${today}&limit=10`, token },
  ];
}
