// A delaying TCP proxy for `npm run bench -- --rtt 0,5,20`: it listens on the loopback address only
// and forwards every byte to the target (PgBouncer, or PostgreSQL with --pooler=false) after half the
// round-trip time, and every byte back after the other half, in order. So each statement the worker
// sends and waits for costs `rtt` ms more, as across a network between the worker and its database;
// bandwidth is not limited. Connections are opened as the worker asks (the pooler keeps its own to
// PostgreSQL, undelayed, as Hyperdrive's pool sits next to the database).
import net from 'node:net';

/** Starts the proxy; resolves to { port, close() }. */
export function startDelayProxy({ target, rttMs, port = 0 }) {
  const half = rttMs / 2;
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    pipeDelayed(client, upstream, half);
    pipeDelayed(upstream, client, half);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** from → to, each chunk `delay` ms later (timers of one delay fire in the order they were set). */
function pipeDelayed(from, to, delay) {
  from.on('data', (chunk) => {
    if (delay <= 0) to.write(chunk);
    else setTimeout(() => to.destroyed || to.write(chunk), delay);
  });
  from.on('end', () => (delay <= 0 ? to.end() : setTimeout(() => to.end(), delay)));
}
