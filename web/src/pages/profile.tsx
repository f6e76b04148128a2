// The profile: who I am, my invite code, a friend's code (once), and the users who used my code.
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { dateTime } from '../lib/format';
import { useAction, useAsync } from '../lib/hooks';
import { setQuery, type Route } from '../lib/router';
import { session } from '../lib/session';
import type { Page, Profile, ReferredUser } from '../lib/types';
import { ErrorNotice, Field, formValues, ListState, Notice, Pager, PageTitle } from '../components/ui';

const PAGE_SIZE = 20;

export function ProfilePage({ route }: { route: Route }) {
  const user = session()?.user;
  const profile = useAsync(() => api<Profile>('/api/profile'), []);
  const page = Number(route.query.get('page') ?? 1);
  const referred = useAsync(() => api<Page<ReferredUser>>('/api/profile/referred-users', { query: { page, page_size: PAGE_SIZE } }), [page]);
  const [copied, setCopied] = useState(false);
  const code = profile.data?.invite_referral_code ?? user?.invite_referral_code;

  const copy = async () => {
    if (!code) return;
    await navigator.clipboard?.writeText(code).catch(() => undefined);
    setCopied(true);
  };
  return (
    <section>
      <PageTitle>Profile</PageTitle>
      <div class="cards two">
        <div class="card">
          <h2>Account</h2>
          <dl class="meta">
            <dt>Email</dt>
            <dd>{user?.email ?? '—'}</dd>
            <dt>Username</dt>
            <dd>{user?.username ?? '—'}</dd>
            <dt>Phone</dt>
            <dd>{user?.phone ?? '—'}</dd>
            <dt>Role</dt>
            <dd>{user?.is_superuser ? 'Superuser' : user?.is_staff ? 'Staff' : 'Member'}</dd>
          </dl>
        </div>
        <div class="card">
          <h2>Invite friends</h2>
          <p>
            Your invite code:{' '}
            <strong class="code" data-testid="invite-code">
              {code ?? '…'}
            </strong>{' '}
            <button type="button" onClick={copy} aria-label="Copy the invite code">
              {copied ? 'Copied' : 'Copy'}
            </button>
          </p>
          <ErrorNotice error={profile.error} />
          {profile.data && <FriendCode profile={profile.data} onSaved={profile.reload} />}
        </div>
      </div>
      <h2>People who used your code {profile.data && <small class="hint">({profile.data.referred_count})</small>}</h2>
      <ListState
        list={referred}
        loading="Loading referred users…"
        empty="Nobody has used your code yet. Share it with a friend."
        render={(rows) => (
          <ul class="plain-list">
            {rows.map((r) => (
              <li key={r.id}>
                {r.phone ?? r.email ?? r.username} <small class="hint">joined {dateTime(r.referred_at)}</small>
              </li>
            ))}
          </ul>
        )}
      />
      {referred.data && (
        <Pager page={page} pageSize={PAGE_SIZE} count={referred.data.count} hasNext={!!referred.data.next} onPage={(p) => setQuery({ page: p })} />
      )}
    </section>
  );
}

function FriendCode({ profile, onSaved }: { profile: Profile; onSaved: () => void }) {
  const { busy, error, run } = useAction();
  if (profile.used_referral_code) {
    return <Notice>You joined with the code {profile.used_referral_code}.</Notice>;
  }
  const submit = (e: Event) => {
    const code = formValues(e).code?.trim();
    void run(async () => {
      await api('/api/profile', { body: { used_referral_code: code } });
      onSaved();
    });
  };
  return (
    <form onSubmit={submit} class="inline-form">
      <Field
        label="A friend's invite code"
        name="code"
        maxlength={6}
        pattern="[A-Za-z0-9]{6}"
        required
        hint="6 letters or digits; it can be entered once."
      />
      <ErrorNotice error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Use this code'}
      </button>
    </form>
  );
}
