// Hash routes (`/#/exams?search=sql&page=2`): the worker serves one index.html at `/` and every
// other path stays the API's, so deep links and reloads work without any server-side fallback.
// Filters and paging live in the hash query, so Back/Forward and a shared link restore them.
import { useEffect, useState } from 'hono/jsx/dom';

export interface Route {
  path: string;
  query: URLSearchParams;
}

function parse(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', qs = ''] = hash.split('?', 2);
  return { path, query: new URLSearchParams(qs) };
}

export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(path: string, query: Record<string, string | number | undefined | null> = {}): void {
  location.hash = href(path, query);
}

/** Replaces some query parameters of the current route (a new history entry, so Back undoes it). */
export function setQuery(patch: Record<string, string | number | undefined | null>): void {
  const { path, query } = parse();
  navigate(path, { ...Object.fromEntries(query), ...patch });
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const update = () => setRoute(parse());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
