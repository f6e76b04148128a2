// Event webhooks (docs/webhooks.md): the caller's endpoints (staff: everyone's), adding one (its
// secret shown once, with a copy button), rotating a secret, a test ping, enabling/disabling,
// deleting, and each endpoint's delivery log with a retry button for finished deliveries.
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { dateTime } from '../lib/format';
import { useAction, useAsync } from '../lib/hooks';
import { session } from '../lib/session';
import type { Page, WebhookDelivery, WebhookEndpoint } from '../lib/types';
import { WEBHOOK_EVENT_TYPES } from '../lib/types';
import { Badge, ErrorNotice, Field, formValues, ListState, Modal, Notice, PageTitle } from '../components/ui';

const STAFF_ONLY = new Set(['order.created', 'order.status_changed']);

export function WebhooksPage() {
  const list = useAsync(() => api<Page<WebhookEndpoint>>('/api/webhook-endpoints', { query: { page_size: 100 } }), []);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <section>
      <PageTitle>Webhooks</PageTitle>
      <p class="hint">
        Signed events (Standard Webhooks) about your payments, registrations and machines are POSTed to your endpoints. Verify each one with its
        secret; see the API documentation.
      </p>
      <details class="card">
        <summary>Add an endpoint</summary>
        <EndpointForm
          onCreated={(ep, value) => {
            setSecret({ title: `Secret of ${ep.url}`, value });
            list.reload();
          }}
        />
      </details>
      <ListState
        list={list}
        loading="Loading endpoints…"
        empty="No endpoints yet."
        render={(rows) => (
          <ul class="endpoints">
            {rows.map((ep) => (
              <li key={ep.id} class="card" data-endpoint={ep.id}>
                <EndpointCard
                  endpoint={ep}
                  open={open === ep.id}
                  onToggle={() => setOpen(open === ep.id ? null : ep.id)}
                  onChanged={list.reload}
                  onSecret={(value) => setSecret({ title: `New secret of ${ep.url}`, value })}
                />
              </li>
            ))}
          </ul>
        )}
      />
      {secret && <SecretDialog title={secret.title} value={secret.value} onClose={() => setSecret(null)} />}
    </section>
  );
}

/** The secret, shown this once, with a copy button. */
function SecretDialog({ title, value, onClose }: { title: string; value: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Modal labelledBy="webhook-secret" onClose={onClose}>
      <h2 id="webhook-secret">{title}</h2>
      <p>Copy it now: it is shown only this once.</p>
      <p>
        <code class="secret" data-secret>
          {value}
        </code>
      </p>
      <button
        type="button"
        class="primary"
        onClick={() =>
          void navigator.clipboard.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        Copy secret
      </button>
      {copied && <Notice kind="success">Copied.</Notice>}
      <form method="dialog">
        <button type="submit">Done</button>
      </form>
    </Modal>
  );
}

function EndpointForm({ onCreated }: { onCreated: (ep: WebhookEndpoint, secret: string) => void }) {
  const { busy, error, run } = useAction();
  const staff = !!session()?.user?.is_staff;
  const types = WEBHOOK_EVENT_TYPES.filter((t) => staff || !STAFF_ONLY.has(t));
  const submit = (e: Event) => {
    const form = e.target as HTMLFormElement;
    const v = formValues(e);
    const chosen = [...new FormData(form).getAll('events')].map(String);
    const body = { url: v.url?.trim(), events: chosen.length ? chosen : ['*'], description: v.description?.trim() || undefined };
    void run(async () => {
      const created = await api<WebhookEndpoint & { secret: string }>('/api/webhook-endpoints', { method: 'POST', body });
      form.reset();
      onCreated(created, created.secret);
    });
  };
  return (
    <form onSubmit={submit}>
      <Field label="URL" name="url" type="url" required maxlength={2048} placeholder="https://hooks.example.com/edge-api" />
      <Field label="Description" name="description" maxlength={256} />
      <fieldset>
        <legend>Events (none checked: all)</legend>
        {types.map((t) => (
          <label key={t} class="check">
            <input type="checkbox" name="events" value={t} /> {t}
          </label>
        ))}
      </fieldset>
      <ErrorNotice error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Add endpoint
      </button>
    </form>
  );
}

function EndpointCard({
  endpoint: ep,
  open,
  onToggle,
  onChanged,
  onSecret,
}: {
  endpoint: WebhookEndpoint;
  open: boolean;
  onToggle: () => void;
  onChanged: () => void;
  onSecret: (value: string) => void;
}) {
  const { busy, error, run } = useAction();
  const [pinged, setPinged] = useState(0);
  const path = `/api/webhook-endpoints/${ep.id}`;
  /** Calls the API, then `after` (the action's busy flag and error slot cover both). */
  const act = (call: () => Promise<unknown>, after: () => void) =>
    void run(async () => {
      await call();
      after();
    });
  return (
    <>
      <h2>
        <span class="url">{ep.url}</span> {ep.disabled ? <Badge value="disabled" kind="error" /> : <Badge value="enabled" kind="ready" />}
      </h2>
      {ep.description && <p>{ep.description}</p>}
      <p class="hint">Events: {ep.events.join(', ')}</p>
      {ep.disabled_reason && <p class="hint">Disabled: {ep.disabled_reason}</p>}
      <div class="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            act(
              () => api(`${path}/test`, { method: 'POST' }),
              () => setPinged((n) => n + 1),
            )
          }
        >
          Send test ping
        </button>
        <button type="button" disabled={busy} onClick={() => act(() => api(path, { method: 'PATCH', body: { disabled: !ep.disabled } }), onChanged)}>
          {ep.disabled ? 'Enable' : 'Disable'}
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => void run(async () => onSecret((await api<{ secret: string }>(`${path}/rotate-secret`, { method: 'POST' })).secret))}
        >
          Rotate secret
        </button>
        <button type="button" disabled={busy} onClick={() => act(() => api(path, { method: 'DELETE' }), onChanged)}>
          Delete
        </button>
        <button type="button" aria-expanded={open} onClick={onToggle}>
          {open ? 'Hide deliveries' : 'Deliveries'}
        </button>
      </div>
      {pinged > 0 && <Notice kind="success">Ping sent: see the deliveries.</Notice>}
      <ErrorNotice error={error} />
      {open && <Deliveries endpointId={ep.id} version={pinged} />}
    </>
  );
}

function Deliveries({ endpointId, version }: { endpointId: number; version: number }) {
  const [tick, setTick] = useState(0);
  const list = useAsync(
    () => api<Page<WebhookDelivery>>(`/api/webhook-endpoints/${endpointId}/deliveries`, { query: { page_size: 50 } }),
    [endpointId, version, tick],
  );
  const { busy, error, run } = useAction();
  return (
    <div class="deliveries">
      <button type="button" onClick={() => setTick((t) => t + 1)}>
        Refresh
      </button>
      <ListState
        list={list}
        loading="Loading deliveries…"
        empty="No deliveries yet."
        error={error}
        render={(rows, reloading) => (
          <div class="table-wrap">
            <table aria-busy={reloading}>
              <caption class="visually-hidden">Deliveries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Attempts
                  </th>
                  <th scope="col">Last answer</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={d.id} data-delivery={d.id}>
                    <td>
                      {d.event_type} <code class="hint">{d.event_id}</code>
                    </td>
                    <td>
                      <Badge value={d.status} kind={d.status === 'succeeded' ? 'success' : d.status === 'failed' ? 'error' : 'pending'} />
                    </td>
                    <td class="num">{d.attempts}</td>
                    <td>{d.last_error ?? (d.last_status_code ? `HTTP ${d.last_status_code}` : '—')}</td>
                    <td>{dateTime(d.created_at)}</td>
                    <td>
                      {d.status !== 'pending' && (
                        <button
                          type="button"
                          disabled={busy}
                          onClick={() =>
                            void run(async () => {
                              await api(`/api/webhook-endpoints/${endpointId}/deliveries/${d.id}/retry`, { method: 'POST' });
                              setTick((t) => t + 1);
                            })
                          }
                        >
                          Retry
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      />
    </div>
  );
}
