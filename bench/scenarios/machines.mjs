// Machines at scale (run `npm run seed -- --users 1000 --machines 100000 --operations 1000000`):
// the machine list over 100k rows, history over 1M operations (user0 owns a tenth of the machines,
// about 100k operations), deep paging by cursor, and the command round trip through the queue
// with the simulator (POST → 202 → poll the operation until it is not PENDING).
export default async function machines(ctx) {
  const [heavy, light] = await ctx.userTokens(2); // user0 (heavy owner), user1
  const page = await ctx.fetchJson('/api/machines?owner=me&page_size=1', { token: light });
  if (page.status !== 200 || page.body.count === 0) throw new Error('no seeded machines; run npm run seed -- --machines N');
  const machineId = page.body.results[0].id;
  const all = await ctx.fetchJson('/api/machines?page_size=100', { token: light });
  const deepMachines = await walkCursor(ctx, '/api/machines?page_size=100', light, 500);
  const deepHistory = await walkCursor(ctx, '/api/machines/history?page_size=100', heavy, 500);
  console.log(
    `[machines] ${all.body.count} machines; user0 history ${(await ctx.fetchJson('/api/machines/history?page_size=1', { token: heavy })).body.count} operations`,
  );
  return [
    { name: 'GET /api/machines (100k, page 1 + count)', path: '/api/machines', token: light },
    { name: 'GET /api/machines?status=RUNNING', path: '/api/machines?status=RUNNING', token: light },
    { name: 'GET /api/machines?owner=me', path: '/api/machines?owner=me', token: light },
    { name: 'GET /api/machines?search= (substring scan)', path: '/api/machines?search=line%2017', token: light },
    { name: 'GET /api/machines?cursor= (deep, 50k in)', path: `/api/machines?page_size=100&cursor=${deepMachines}`, token: light },
    { name: 'GET /api/machines/history (1M ops, user0 ~100k)', path: '/api/machines/history', token: heavy },
    { name: 'GET /api/machines/history?result=REMOTEFAILED', path: '/api/machines/history?result=REMOTEFAILED', token: heavy },
    { name: 'GET /api/machines/history?cursor= (deep, 50k in)', path: `/api/machines/history?page_size=100&cursor=${deepHistory}`, token: heavy },
    { name: 'GET /api/machines/{id}/history', path: `/api/machines/${machineId}/history`, token: light },
    { name: 'command round trip 202 → SUCCESS (simulator)', run: (c) => roundTrips(c, light) },
  ];
}

/** The cursor `pages` pages deep into a list (constant-time paging should not care). */
async function walkCursor(ctx, path, token, pages) {
  let cursor = null;
  for (let i = 0; i < pages; i++) {
    const res = await ctx.fetchJson(cursor ? `${path}&cursor=${cursor}` : path, { token });
    if (!res.body.next_cursor) break;
    cursor = res.body.next_cursor;
  }
  return cursor;
}

/**
 * Round trips on a few fresh simulator machines at once, alternating POWER_ON and POWER_OFF:
 * the time from sending the command to reading SUCCESS (polling every 5 ms).
 */
async function roundTrips(ctx, token, { machines = 4, perMachine = 50 } = {}) {
  const latencies = [];
  let errors = 0;
  const ids = [];
  for (let i = 0; i < machines; i++) {
    const res = await ctx.fetchJson('/api/machines', { method: 'POST', token, body: { name: `Bench press ${i}`, location: 'Bench' } });
    ids.push(res.body.id);
  }
  await Promise.all(
    ids.map(async (id) => {
      for (let i = 0; i < perMachine; i++) {
        const started = performance.now();
        const res = await ctx.fetchJson(`/api/machines/${id}/operation`, {
          method: 'POST',
          token,
          body: { command: i % 2 ? 'POWER_OFF' : 'POWER_ON' },
        });
        if (res.status !== 202) {
          errors += 1;
          continue;
        }
        for (;;) {
          const op = await ctx.fetchJson(`/api/machines/${id}/operations/${res.body.id}`, { token });
          if (op.body.result === 'SUCCESS') break;
          if (op.body.result !== 'PENDING') {
            errors += 1;
            break;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
        latencies.push(performance.now() - started);
      }
    }),
  );
  for (const id of ids) await ctx.fetchJson(`/api/machines/${id}`, { method: 'DELETE', token });
  return { latencies, errors };
}
