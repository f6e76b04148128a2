// Every authenticated call goes through api(): the bearer token (refreshed first when it is about to
// expire), one retry after a refresh if the server still finds it expired, and errors as ApiProblem.
import { problemOf, send, type CallOptions } from './http';
import { accessToken, refreshNow, sessionEnded } from './session';

export { ApiProblem, withQuery, type CallOptions, type FieldError } from './http';

/** 401 codes that mean the session itself is gone (not, say, a wrong current password). */
const SESSION_GONE = new Set(['TOKEN_NOT_FOUND', 'TOKEN_EXPIRED', 'INVALID_TOKEN']);

/** Calls the API and returns the parsed JSON body (undefined for 204); throws ApiProblem otherwise. */
export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const authed = opts.auth !== false;
  let res = await send(path, opts, authed ? await accessToken() : null);
  if (authed && res.status === 401) {
    const problem = await problemOf(res);
    // An access token can expire between our check and the server's (clock skew, a laptop waking
    // up): refresh once and retry.
    if (problem.code === 'TOKEN_EXPIRED' && (await refreshNow())) {
      res = await send(path, opts, await accessToken());
    } else {
      if (SESSION_GONE.has(problem.code)) sessionEnded();
      throw problem;
    }
  }
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
