// Hash routes (`/#/exams?search=sql&page=2`): the worker serves one index.html at `/` and every
// other path stays the API's, so deep links and reloads work without any server-side fallback.
// Filters and paging live in the hash query, so Back/Forward and a shared link restore them.
//
// This module is the one owner of "what is on screen". It listens to the hash from the moment it
// is loaded (never from a component effect, which hono/jsx runs a frame later and so can miss a
// change), follows redirects itself before anything renders (replacing the history entry, so Back
// never lands on a page that only redirects), and hands out a `View`: the route plus an id that
// changes whenever a different page is shown. Pages render from the view; anything a page started
// asynchronously checks `isShown(view)` before it touches the screen again, so a page that was left
// while loading can never come back (hono/jsx re-inserts a removed component whose state is set).
import { createContext, useContext, useSyncExternalStore } from 'hono/jsx/dom';

export interface Route {
  path: string;
  query: URLSearchParams;
}

export interface View {
  /** Changes whenever another page is shown (a new path), not when only its query changes. */
  id: number;
  route: Route;
}

/** Where a route must go instead (a `#/…` hash), or null when it may be shown as it is. */
export type Redirect = (route: Route) => string | null;

const MAX_REDIRECTS = 5;

function parse(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', qs = ''] = hash.split('?', 2);
  return { path, query: new URLSearchParams(qs) };
}

let redirect: Redirect = () => null;
let view: View = { id: 0, route: parse() };
const listeners = new Set<() => void>();

/** Reads the hash, follows the redirect rules, and publishes the view if it changed; call it again when the rules' inputs change (signing in or out). */
export function refresh(): void {
  let route = parse();
  for (let i = 0; i < MAX_REDIRECTS; i++) {
    const target = redirect(route);
    if (!target || target === location.hash) break;
    history.replaceState(history.state, '', target);
    route = parse();
  }
  const same = route.path === view.route.path;
  if (same && route.query.toString() === view.route.query.toString()) return;
  view = { id: same ? view.id : view.id + 1, route };
  for (const fn of listeners) fn();
}

window.addEventListener('hashchange', refresh);

/** Installs the redirect rules and settles the current hash. */
export function startRouter(rules: Redirect): void {
  redirect = rules;
  refresh();
}

export const currentView = (): View => view;

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The view on screen, re-rendering the caller when it changes. */
export function useView(): View {
  return useSyncExternalStore(subscribe, currentView);
}

/** The id of the view a component belongs to (set by the shell around each page). */
export const ViewContext = createContext(0);

/** False once the page that `id` names has been left: its late results must not be shown. */
export const isShown = (id: number): boolean => id === view.id;

/** The view id of the calling component's page. */
export const useViewId = (): number => useContext(ViewContext);

export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(path: string, query: Record<string, string | number | undefined | null> = {}): void {
  location.hash = href(path, query);
}

/** Goes to a route in place of the current history entry (Back skips the page left). */
export function replace(path: string, query: Record<string, string | number | undefined | null> = {}): void {
  history.replaceState(history.state, '', href(path, query));
  refresh();
}

/** Replaces some query parameters of the current route (a new history entry, so Back undoes it). */
export function setQuery(patch: Record<string, string | number | undefined | null>): void {
  const { path, query } = view.route;
  navigate(path, { ...Object.fromEntries(query), ...patch });
}
