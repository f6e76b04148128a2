// Absolute links in responses (`next`/`previous`, `Location`, the phone `next`). With PUBLIC_ORIGIN
// set they are built on it, so a forged `Host` header never comes back in a link; without it (local
// development) on the origin the request was addressed to.
import type { Context } from 'hono';
import type { AppEnv } from '../context';

/** This request's URL as clients should address it. */
export function requestUrl(c: Context<AppEnv>): string {
  const origin = publicOrigin(c);
  if (!origin) return c.req.url;
  const url = new URL(c.req.url);
  return origin + url.pathname + url.search;
}

/** An absolute link to `path` of this API. */
export function absoluteUrl(c: Context<AppEnv>, path: string): string {
  return new URL(path, requestUrl(c)).toString();
}

function publicOrigin(c: Context<AppEnv>): string | null {
  const configured = c.var.ctx.config.PUBLIC_ORIGIN;
  if (!configured) return null;
  try {
    return new URL(configured).origin;
  } catch {
    return null; // a malformed setting falls back to the request's origin rather than failing every list
  }
}
