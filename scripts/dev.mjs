// `npm run dev [-- wrangler dev args]`: prepares .dev.vars (a random JWT secret) when missing,
// applies the D1 migrations locally, then starts `wrangler dev` with the extra arguments.
import { spawn } from 'node:child_process';
import { applyMigrations, ensureDevVars, ROOT } from './lib.mjs';

ensureDevVars();
applyMigrations();
console.log('Local D1 migrations applied.');

const child = spawn('npx', ['wrangler', 'dev', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
