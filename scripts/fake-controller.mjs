// `node scripts/fake-controller.mjs --secret whsec_… [--secret whsec_…] [--port 8797] [--fail]`: a
// device gateway to try machines with. It verifies every command as a real controller must
// (scripts/controller-verify.mjs: the Standard Webhooks signature with the machine's controller
// secret, a fresh timestamp, each webhook-id run once), refusing a forged, unsigned or stale one with
// 401, and logs each command ({ operation_id, machine_id, command }). It answers 200, or 500 with
// --fail (a broken device: the operation ends REMOTEFAILED and the machine in ERROR). A repeated
// webhook-id answers 200 without running the command again. Toggle at runtime: GET /fail and GET /ok.
// Two --secret while a device switches to a rotated secret (both are accepted). The secret is the
// `controller_secret` the API answered (POST /api/machines, or POST /api/machines/{id}/controller-secret);
// CONTROLLER_SECRET in the environment works too. Local only: the API accepts an http:// loopback
// controller_url when ALLOW_INSECURE_CONTROLLER_URLS=true (npm run dev writes that to .dev.vars).
import { createServer } from 'node:http';
import { commandVerifier } from './controller-verify.mjs';

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1]) || 8797;
let failing = args.includes('--fail');
const secrets = args.flatMap((a, i) => (a === '--secret' && args[i + 1] ? [args[i + 1]] : []));
if (process.env.CONTROLLER_SECRET) secrets.push(process.env.CONTROLLER_SECRET);
if (secrets.length === 0) {
  console.error('fake-controller: --secret whsec_… is required (the controller_secret the API answered for the machine)');
  process.exit(2);
}
const verifier = commandVerifier(secrets);

createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/fail' || req.url === '/ok')) {
    failing = req.url === '/fail';
    res.end(`failing=${failing}\n`);
    return;
  }
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const verdict = verifier.check(body, req.headers);
    const at = new Date().toISOString();
    if (verdict.status === 401) {
      console.log(`${at} ${req.method} ${req.url} refused: ${verdict.reason} → 401`);
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: verdict.reason }));
      return;
    }
    if (verdict.duplicate) {
      console.log(`${at} ${req.method} ${req.url} ${body} already run (webhook-id ${req.headers['webhook-id']}) → 200`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, duplicate: true }));
      return;
    }
    console.log(`${at} ${req.method} ${req.url} ${body} → ${failing ? 500 : 200}`);
    res.writeHead(failing ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: !failing }));
  });
}).listen(port, '127.0.0.1', () =>
  console.log(`fake controller on http://127.0.0.1:${port} (${failing ? 'failing' : 'healthy'}; verifying signatures)`),
);
