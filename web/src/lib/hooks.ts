// Hooks the pages share: an API read with its loading and error states, a user action with a busy
// flag, the same with an Idempotency-Key, and a re-render on session changes.
import { useCallback, useEffect, useRef, useState } from 'hono/jsx/dom';
import { ApiProblem } from './api';
import { isShown, useViewId } from './router';
import { subscribe } from './session';

export interface Async<T> {
  data: T | undefined;
  error: ApiProblem | null;
  loading: boolean;
  reload: () => void;
  /** Replaces the data in place (e.g. after a live update) without a round trip. */
  mutate: (fn: (data: T | undefined) => T | undefined) => void;
}

/**
 * useEffect for a page's parts: the effect runs only while the page is on screen. hono/jsx runs
 * effects a frame after rendering, so a page left within that frame would otherwise still start its
 * timers, sockets and requests, and nothing would ever clean them up.
 */
export function usePageEffect(effect: () => unknown, deps: unknown[]): void {
  const view = useViewId();
  useEffect(() => {
    if (!isShown(view)) return;
    const cleanup = effect();
    return typeof cleanup === 'function' ? (cleanup as () => void) : undefined;
  }, deps);
}

/** One API read: its data, loading and error, run again when deps change or on reload(). */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiProblem | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  const view = useViewId();
  // Only the newest load of a page still on screen may set the state.
  const current = (run: number) => run === latest.current && isShown(view);
  usePageEffect(() => {
    const run = ++latest.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => current(run) && setState({ data, error: null, loading: false }),
      (error: unknown) => current(run) && setState((s) => ({ ...s, error: asProblem(error), loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const mutate = useCallback((fn: (data: T | undefined) => T | undefined) => isShown(view) && setState((s) => ({ ...s, data: fn(s.data) })), []);
  return { ...state, reload, mutate };
}

export function asProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  console.error(error);
  return new ApiProblem(0, 'CLIENT_ERROR', error instanceof Error ? error.message : String(error));
}

/**
 * Runs a user action with a busy flag and an error slot. The flag is a ref as well as state, so a
 * second click that arrives before the re-render (a double click) is still ignored.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  const [error, setError] = useState<ApiProblem | null>(null);
  const view = useViewId();
  async function run(action: () => Promise<void>): Promise<boolean> {
    if (running.current) return false;
    running.current = true;
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (e) {
      if (isShown(view)) setError(asProblem(e));
      return false;
    } finally {
      running.current = false;
      // An action that navigated (signing in, opening a new machine) has left its page behind.
      if (isShown(view)) setBusy(false);
    }
  }
  return { busy, error, run };
}

export const newKey = (): string => crypto.randomUUID();

/**
 * An action sent with an Idempotency-Key (paying, cancelling). Repeats of one attempt (a double
 * click, a retry after the network failed) carry the same key, so the API acts once and replays its
 * answer; once the server has answered, the next attempt gets a new key.
 */
export function useIdempotentAction() {
  const key = useRef(newKey());
  const action = useAction();
  const run = (send: (key: string) => Promise<void>) =>
    action.run(async () => {
      try {
        await send(key.current);
        key.current = newKey();
      } catch (err) {
        if (!(err instanceof ApiProblem) || err.status !== 0) key.current = newKey();
        throw err;
      }
    });
  /** A different request (e.g. another payment method) is a new attempt. */
  const renewKey = () => {
    key.current = newKey();
  };
  return { ...action, run, renewKey };
}

/** Re-renders the caller whenever the session changes (sign in/out, refresh in another tab). */
export function useSessionVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => subscribe(() => setVersion((v) => v + 1)), []);
  return version;
}
