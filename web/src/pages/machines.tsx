// The machine floor: every machine with its status, filters and paging, updated live; and one
// machine's page with the commands its state allows, its history, and live results.
import { useState } from 'hono/jsx/dom';
import { api, type ApiProblem } from '../lib/api';
import { dateTime } from '../lib/format';
import { type Async, useAction, useAsync, usePageEffect } from '../lib/hooks';
import { watchMachine, type LiveState } from '../lib/live';
import { allowedFrom, applyEvent, canRun, type LiveMachine } from '../lib/machines';
import { setQuery, type Route } from '../lib/router';
import { session } from '../lib/session';
import { COMMANDS, MACHINE_STATUSES, type Command, type LiveEvent, type Machine, type Operation, type Page } from '../lib/types';
import { Badge, Empty, ErrorNotice, Field, formValues, ListState, Loading, Notice, Pager, PageTitle, Select } from '../components/ui';

const PAGE_SIZE = 20;

/** Owners and staff may drive and watch a machine; everyone else only reads it. */
function mayDrive(m: Machine): boolean {
  const user = session()?.user;
  return !!user && (user.is_staff || user.id === m.owner_id);
}

const liveText: Record<LiveState, string> = { connecting: 'Connecting…', live: 'Live', offline: 'Reconnecting…' };

function PendingBadge({ pending }: { pending: LiveMachine['pending'] }) {
  if (pending.length === 0) return null;
  return <Badge value={`${pending.map((p) => p.command).join(', ')} pending`} kind="pending" />;
}

export function MachinesPage({ route }: { route: Route }) {
  const q = route.query;
  const search = q.get('search') ?? '';
  const status = q.get('status') ?? '';
  const mine = q.get('owner') === 'me';
  const page = Number(q.get('page') ?? 1);
  const list = useAsync(async () => {
    const res = await api<Page<Machine>>('/api/machines', { query: { search, status, owner: mine ? 'me' : '', page, page_size: PAGE_SIZE } });
    return { ...res, results: res.results.map((m): LiveMachine => ({ ...m, pending: [] })) };
  }, [search, status, mine, page]);
  const [live, setLive] = useState<Record<number, LiveState>>({});

  // One live feed per machine on this page that the user may watch.
  const watched = (list.data?.results ?? []).filter(mayDrive).map((m) => m.id);
  usePageEffect(() => {
    const stops = watched.map((id) =>
      watchMachine(id, {
        onEvent: (event: LiveEvent) =>
          list.mutate((page) => page && { ...page, results: page.results.map((m) => (m.id === id ? applyEvent(m, event) : m)) }),
        onState: (state) => setLive((s) => ({ ...s, [id]: state })),
      }),
    );
    return () => {
      for (const stop of stops) stop();
    };
  }, [watched.join(',')]);
  const liveCount = watched.filter((id) => live[id] === 'live').length;

  return (
    <section>
      <PageTitle>Machines</PageTitle>
      <form
        class="filters"
        role="search"
        aria-label="Search machines"
        onSubmit={(e: Event) => setQuery({ search: formValues(e).search, page: null })}
      >
        <div class="field grow">
          <label for="machine-search">Search</label>
          <input id="machine-search" type="search" name="search" value={search} placeholder="Name or location" />
        </div>
        <Select
          label="Status"
          name="status"
          value={status}
          options={[['', 'All'], ...MACHINE_STATUSES.map((s): [string, string] => [s, s])]}
          onChange={(v) => setQuery({ status: v, page: null })}
        />
        <label class="choice">
          <input
            type="checkbox"
            checked={mine}
            onChange={(e: Event) => setQuery({ owner: (e.target as HTMLInputElement).checked ? 'me' : null, page: null })}
          />{' '}
          Only mine
        </label>
        <button type="submit">Search</button>
      </form>
      <details class="card">
        <summary>Add a machine</summary>
        <NewMachine onCreated={list.reload} />
      </details>
      {watched.length > 0 && (
        <p class="live-state" aria-live="polite">
          <span class={`dot ${liveCount === watched.length ? 'on' : ''}`} aria-hidden="true" /> Live updates: {liveCount} of {watched.length} machines
        </p>
      )}
      <ListState
        list={list}
        loading="Loading machines…"
        empty={search || status || mine ? 'No machines match these filters.' : 'No machines yet. Add one above.'}
        render={(rows, busy) => (
          <ul class="board" aria-busy={busy}>
            {rows.map((m) => (
              <li key={m.id} class={`card machine status-${m.status.toLowerCase()}`} data-machine={m.id}>
                <h2>
                  <a href={`#/machines/${m.id}`}>{m.name}</a>
                </h2>
                <p class="hint">{m.location}</p>
                <p>
                  <Badge value={m.status} /> <PendingBadge pending={m.pending} />
                </p>
              </li>
            ))}
          </ul>
        )}
      />
      {list.data && (
        <Pager page={page} pageSize={PAGE_SIZE} count={list.data.count} hasNext={!!list.data.next} onPage={(p) => setQuery({ page: p })} />
      )}
    </section>
  );
}

function NewMachine({ onCreated }: { onCreated: () => void }) {
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    const form = e.target as HTMLFormElement;
    const v = formValues(e);
    void run(async () => {
      await api('/api/machines', { body: { name: v.name?.trim(), location: v.location?.trim() } });
      form.reset();
      onCreated();
    });
  };
  return (
    <form onSubmit={submit} class="inline-form">
      <Field label="Name" name="name" required maxlength={64} />
      <Field label="Location" name="location" required maxlength={256} />
      <ErrorNotice error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Add machine
      </button>
    </form>
  );
}

/** One machine's page data: the machine (kept current by its live feed), its history, and the commands. */
function useMachine(id: number, page: number) {
  const machine = useAsync(async (): Promise<LiveMachine> => ({ ...(await api<Machine>(`/api/machines/${id}`)), pending: [] }), [id]);
  const drive = machine.data ? mayDrive(machine.data) : false;
  const history = useAsync(
    () => (drive ? api<Page<Operation>>(`/api/machines/${id}/history`, { query: { page, page_size: PAGE_SIZE } }) : Promise.resolve(undefined)),
    [id, page, drive],
  );
  const [live, setLive] = useState<LiveState>('connecting');
  const [deleted, setDeleted] = useState(false);
  const { busy, error, run } = useAction();

  usePageEffect(() => {
    if (!drive) return;
    return watchMachine(id, {
      onState: setLive,
      onEvent: (event) => {
        if (event.type === 'deleted') setDeleted(true);
        machine.mutate((m) => m && applyEvent(m, event));
        if (event.type === 'operation' && page === 1) {
          const op = event.operation;
          history.mutate((h) => h && { ...h, results: [op, ...h.results.filter((o) => o.id !== op.id)].slice(0, PAGE_SIZE) });
        }
      },
    });
  }, [id, drive, page]);

  const send = (command: Command) => void run(async () => void (await api(`/api/machines/${id}/operation`, { body: { command } })));
  return { machine, history, drive, live, deleted, busy, error, send };
}

export function MachinePage({ id, route }: { id: number; route: Route }) {
  const page = Number(route.query.get('page') ?? 1);
  const { machine, history, drive, live, deleted, busy, error, send } = useMachine(id, page);
  const m = machine.data;
  if (machine.error) return <ErrorNotice error={machine.error} />;
  if (!m) return <Loading what="Loading the machine…" />;
  return (
    <section>
      <p>
        <a href="#/machines">← All machines</a>
      </p>
      <PageTitle>{m.name}</PageTitle>
      <p class="hint">{m.location}</p>
      {deleted && <Notice>This machine was deleted.</Notice>}
      <MachineControls m={m} drive={drive} live={live} disabled={busy || deleted} error={error} onSend={send} />
      {drive && (
        <>
          <h2>History</h2>
          <MachineHistory history={history} />
          {history.data && (
            <Pager page={page} pageSize={PAGE_SIZE} count={history.data.count} hasNext={!!history.data.next} onPage={(p) => setQuery({ page: p })} />
          )}
        </>
      )}
    </section>
  );
}

/** The status, the live state and the command buttons (owners and staff), or why they are missing. */
function MachineControls(props: {
  m: LiveMachine;
  drive: boolean;
  live: LiveState;
  disabled: boolean;
  error: ApiProblem | null;
  onSend: (c: Command) => void;
}) {
  const { m, drive, live, disabled, error, onSend } = props;
  return (
    <div class="card">
      <p class="machine-status" aria-live="polite">
        Status: <Badge value={m.status} /> <PendingBadge pending={m.pending} />
      </p>
      {drive ? (
        <>
          <p class="live-state">
            <span class={`dot ${live === 'live' ? 'on' : ''}`} aria-hidden="true" /> {liveText[live]}
          </p>
          <div class="actions" role="group" aria-label="Commands">
            {COMMANDS.map((c) => (
              <button
                type="button"
                key={c}
                disabled={disabled || !canRun(c, m.status, m.pending)}
                onClick={() => onSend(c)}
                title={`Allowed from ${allowedFrom(c).join(' or ')}`}
              >
                {c.replace('_', ' ')}
              </button>
            ))}
          </div>
          <ErrorNotice error={error} />
        </>
      ) : (
        <p class="hint">Only the machine's owner or staff can send commands and see its history.</p>
      )}
    </div>
  );
}

function MachineHistory({ history }: { history: Async<Page<Operation> | undefined> }) {
  return (
    <>
      <ErrorNotice error={history.error} />
      {!history.data ? (
        history.loading && <Loading what="Loading history…" />
      ) : history.data.results.length === 0 ? (
        <Empty>No commands yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="history stack">
            <caption class="visually-hidden">Commands, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Command</th>
                <th scope="col">Result</th>
                <th scope="col">Requested</th>
                <th scope="col">Completed</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {history.data.results.map((op) => (
                <tr key={op.id} data-operation={op.id}>
                  <td class="lead">{op.command}</td>
                  <td data-label="Result">
                    <Badge value={op.result} />
                  </td>
                  <td data-label="Requested">{dateTime(op.request_datetime)}</td>
                  <td data-label="Completed">{dateTime(op.completed_at)}</td>
                  <td data-label="Detail">{op.detail ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
