// Sign in (email/username and password, or a one-time code by phone) and sign up.
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { useAction } from '../lib/hooks';
import { signedOutNotice, startSession } from '../lib/session';
import type { LoginResult, PhoneLoginResult } from '../lib/types';
import { ErrorNotice, Field, formValues, Notice, PageTitle } from '../components/ui';

/** The shell (app.tsx) then leaves the sign-in page for the page that was asked for. */
const signedIn = (result: LoginResult) => startSession(result);

function PasswordSignIn() {
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    const v = formValues(e);
    const id = v.login?.trim() ?? '';
    const body = id.includes('@') ? { email: id, password: v.password } : { username: id, password: v.password };
    void run(async () => signedIn(await api<LoginResult>('/api/users/login', { body, auth: false })));
  };
  return (
    <form onSubmit={submit} aria-labelledby="signin-password">
      <h2 id="signin-password">With a password</h2>
      <Field label="Email or username" name="login" autocomplete="username" required />
      <Field label="Password" name="password" type="password" autocomplete="current-password" required />
      <ErrorNotice error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function PhoneSignIn() {
  const { busy, error, run } = useAction();
  const [sent, setSent] = useState<PhoneLoginResult | null>(null);
  const send = (e: Event) => {
    const { phone } = formValues(e);
    void run(async () => setSent(await api<PhoneLoginResult>('/api/users/phone/login', { body: { phone }, auth: false })));
  };
  const verify = (e: Event) => {
    const { code } = formValues(e);
    // The token goes in the body: URLs end up in access logs.
    const body = { verification_token: sent!.verification_token, confirm_code: code?.trim() };
    void run(async () => signedIn(await api<LoginResult>('/api/users/phone/verify', { body, auth: false })));
  };
  if (!sent) {
    return (
      <form onSubmit={send} aria-labelledby="signin-phone">
        <h2 id="signin-phone">With a phone code</h2>
        <Field
          label="Phone number"
          name="phone"
          type="tel"
          autocomplete="tel"
          required
          hint="A number without + is read in the server's default region (KR)."
        />
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Sending…' : 'Send code'}
        </button>
      </form>
    );
  }
  return (
    <form onSubmit={verify} aria-labelledby="signin-phone">
      <h2 id="signin-phone">With a phone code</h2>
      <p>
        A code was sent to <strong>{sent.phone}</strong>.
      </p>
      {sent.dev_code && (
        <Notice>
          Development server: the code is <strong class="dev-code">{sent.dev_code}</strong>
        </Notice>
      )}
      <Field label="Code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{4,8}" required />
      <ErrorNotice error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <button type="button" onClick={() => setSent(null)}>
          Use another number
        </button>
      </div>
    </form>
  );
}

export function SignInPage() {
  const notice = signedOutNotice();
  return (
    <section class="narrow">
      <PageTitle>Sign in</PageTitle>
      {notice && <Notice>{notice}</Notice>}
      <div class="cards two">
        <PasswordSignIn />
        <PhoneSignIn />
      </div>
      <p>
        New here? <a href="#/signup">Create an account</a>
      </p>
    </section>
  );
}

export function SignUpPage() {
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    const v = formValues(e);
    const body: Record<string, string> = { password: v.password ?? '', password_check: v.password_check ?? '' };
    for (const key of ['email', 'username', 'name'] as const) if (v[key]?.trim()) body[key] = v[key].trim();
    void run(async () => {
      await api('/api/users/signup', { body, auth: false });
      const login = body.email ? { email: body.email } : { username: body.username };
      signedIn(await api<LoginResult>('/api/users/login', { body: { ...login, password: body.password }, auth: false }));
    });
  };
  return (
    <section class="narrow">
      <PageTitle>Create an account</PageTitle>
      <form onSubmit={submit} class="card">
        <Field label="Email" name="email" type="email" autocomplete="email" hint="An email, a username, or both." />
        <Field label="Username (optional)" name="username" autocomplete="username" maxlength={150} />
        <Field label="Name (optional)" name="name" autocomplete="name" />
        <Field label="Password" name="password" type="password" autocomplete="new-password" required hint="8 to 128 characters." />
        <Field label="Password again" name="password_check" type="password" autocomplete="new-password" required />
        <ErrorNotice error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p>
        Already have an account? <a href="#/signin">Sign in</a>
      </p>
    </section>
  );
}
