// The signed-in session. Tokens live in localStorage, so a reload or a second tab stays signed in.
// The access token is refreshed shortly before it expires; refreshes are serialised across tabs with
// the Web Locks API, because the API treats a spent refresh token presented again as theft and
// revokes the whole session: two tabs must never rotate the same token.
import { send } from './http';
import { message } from './i18n';
import type { LoginResult, TokenPair, User } from './types';

export interface Session {
  user: User;
  access: string;
  refresh: string;
  issuedAt: number;
  expiresAt: number;
}

const KEY = 'edge-console.session';
const LOCK = 'edge-console.refresh';
const RETRY_MS = 15_000;

let current: Session | null = read();
let notice: string | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

function read(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function set(next: Session | null): void {
  current = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  schedule();
  for (const fn of listeners) fn();
}

function withTokens(base: Omit<Session, 'access' | 'refresh' | 'issuedAt' | 'expiresAt'>, pair: TokenPair): Session {
  const now = Date.now();
  return { ...base, access: pair.access, refresh: pair.refresh, issuedAt: now, expiresAt: now + pair.expires_in * 1000 };
}

/** A refresh a minute before expiry, or at 80% of a shorter lifetime. */
function schedule(delay?: number): void {
  clearTimeout(timer);
  if (!current) return;
  const margin = Math.min(60_000, (current.expiresAt - current.issuedAt) * 0.2);
  timer = setTimeout(() => void refreshNow(), delay ?? Math.max(0, current.expiresAt - margin - Date.now()));
}

export const session = (): Session | null => current;

/** Why the user was signed out without asking (shown on the sign-in page), or null. */
export const signedOutNotice = (): string | null => notice;

export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function startSession(result: LoginResult): void {
  notice = null;
  set(withTokens({ user: result.user }, result.token));
}

export function updateUser(user: User): void {
  if (current) set({ ...current, user });
}

/** The session is gone on the server (revoked, expired, user deactivated): sign out here too. */
export function sessionEnded(): void {
  if (!current) return;
  notice = message('sessionEnded');
  set(null);
}

/** A usable access token, refreshed first when it expires within 30 s; null when signed out. */
export async function accessToken(): Promise<string | null> {
  if (current && current.expiresAt - Date.now() < 30_000) await refreshNow();
  return current?.access ?? null;
}

/** Rotates the refresh token (once per tab at a time); true when a fresh access token is in place. */
export function refreshNow(): Promise<boolean> {
  inFlight ??= rotateShared().finally(() => {
    inFlight = null;
  });
  return inFlight;
}

async function rotateShared(): Promise<boolean> {
  return navigator.locks ? await navigator.locks.request(LOCK, rotate) : rotate();
}

async function rotate(): Promise<boolean> {
  const spent = current?.refresh;
  const latest = read();
  if (!spent || !latest) {
    set(null); // signed out in another tab meanwhile
    return false;
  }
  if (latest.refresh !== spent) {
    set(latest); // another tab rotated while we waited for the lock: use its tokens
    return true;
  }
  let res: Response;
  try {
    res = await send('/api/users/refresh', { body: { refresh: spent } }, null);
  } catch {
    schedule(RETRY_MS); // offline: keep the session and try again
    return false;
  }
  if (res.ok) {
    set(withTokens(latest, (await res.json()) as TokenPair));
    return true;
  }
  if (res.status === 401) sessionEnded();
  else schedule(RETRY_MS);
  return false;
}

/** Revokes the session on the server (best effort) and forgets it here at once. */
export async function signOut(): Promise<void> {
  notice = null;
  const token = await accessToken().catch(() => null);
  const refresh = current?.refresh;
  set(null);
  if (token && refresh) await send('/api/users/logout', { body: { refresh } }, token).catch(() => undefined);
}

// Another tab signed in, out, or rotated the tokens.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY && e.key !== null) return;
  current = read();
  schedule();
  for (const fn of listeners) fn();
});
// Timers do not run while a laptop sleeps: check again when the page comes back.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') schedule();
});
schedule();
