// Seeded machines ("Seed press <N>") owned by the seeded users, and their operation history.
// user0 owns a tenth of the machines (a heavy owner, to measure history at scale); the rest are
// spread uniformly. Operations are written in time order, so ids and request times agree, and all
// are finished (SUCCESS mostly, some REMOTEFAILED/INTERNALFAILED): MachineDO initialises itself from
// the D1 row on first use, so seeded machines accept commands at once.
import { UsageError } from '../lib.mjs';

export const name = 'machines';
export const order = 30;
export const options = {
  machines: [0, 'machines (a tenth owned by the first seeded user); needs --users'],
  operations: [0, 'finished machine operations over 90 days; needs --users'],
};

const STATUSES = ['POWEROFF', 'READY', 'RUNNING', 'PAUSE', 'ERROR'];
const COMMANDS = ['START', 'STOP', 'PAUSE', 'POWER_ON', 'POWER_OFF', 'RESET'];
const HALLS = ['Hall A', 'Hall B', 'Hall C', 'North wing', 'South wing', 'Annex'];

export async function seed(db, opts, ctx) {
  if (!opts.machines && !opts.operations) return null;
  const owners = ctx.userIds ?? [];
  if (owners.length === 0) throw new UsageError('--machines and --operations need seeded users (--users N)');
  const pick = (list) => list[Math.floor(ctx.random() * list.length)];
  const now = Date.now();
  const done = [];

  const have = db.prepare("SELECT count(*) AS n FROM machines WHERE name LIKE 'Seed press %'").get().n;
  if (opts.machines > have) {
    const insert = db.prepare(
      'INSERT INTO machines (name, location, status, owner_id, controller_url, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)',
    );
    ctx.tx(() => {
      for (let i = have; i < opts.machines; i++) {
        const owner = ctx.random() < 0.1 ? owners[0] : pick(owners);
        const created = now - Math.floor((1 - i / opts.machines) * 180 * 86_400_000);
        insert.run(`Seed press ${i}`, `${pick(HALLS)}, line ${1 + Math.floor(ctx.random() * 40)}`, pick(STATUSES), owner, created, created);
      }
    });
    done.push(`${opts.machines - have} machines`);
  }

  const machines = db.prepare("SELECT id, owner_id AS owner FROM machines WHERE name LIKE 'Seed press %' ORDER BY id").all();
  const haveOps = db.prepare('SELECT count(*) AS n FROM machine_operations').get().n;
  if (opts.operations > haveOps && machines.length > 0) {
    const insert = db.prepare(
      `INSERT INTO machine_operations (machine_id, machine_owner_id, worker_id, command, result, request_datetime, completed_at, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const total = opts.operations - haveOps;
    const span = 90 * 86_400_000;
    const chunk = 100_000;
    for (let from = 0; from < total; from += chunk) {
      ctx.progress('machines: operations', from, total);
      ctx.tx(() => {
        for (let i = from; i < Math.min(total, from + chunk); i++) {
          const m = pick(machines);
          const at = now - span + Math.floor((i / total) * span);
          const r = ctx.random();
          const [result, detail] =
            r < 0.94 ? ['SUCCESS', null] : r < 0.98 ? ['REMOTEFAILED', 'the controller answered HTTP 500'] : ['INTERNALFAILED', 'the controller could not be reached after all retries'];
          insert.run(m.id, m.owner, m.owner, pick(COMMANDS), result, at, at + 50 + Math.floor(ctx.random() * 500), detail);
        }
      });
    }
    done.push(`${total} operations`);
  }
  return done.length ? done.join(', ') : null;
}
