// `node scripts/fake-controller.mjs [--port 8797] [--fail]`: a device gateway to try machines with.
// It logs each command the API sends ({ operation_id, machine_id, command }) and answers 200, or
// 500 with --fail (a broken device: the operation ends REMOTEFAILED and the machine in ERROR).
// Toggle at runtime: GET /fail and GET /ok. Local only: the API accepts an http:// loopback
// controller_url when ALLOW_INSECURE_CONTROLLER_URLS=true (npm run dev writes that to .dev.vars).
import { createServer } from 'node:http';

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1]) || 8797;
let failing = args.includes('--fail');

createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/fail' || req.url === '/ok')) {
    failing = req.url === '/fail';
    res.end(`failing=${failing}\n`);
    return;
  }
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    console.log(`${new Date().toISOString()} ${req.method} ${req.url} ${body} → ${failing ? 500 : 200}`);
    res.writeHead(failing ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: !failing }));
  });
}).listen(port, '127.0.0.1', () => console.log(`fake controller on http://127.0.0.1:${port} (${failing ? 'failing' : 'healthy'})`));
