// Which browser origins may call the API: the ones CORS_ORIGINS lists and, on a developer's machine
// only (LOCAL_DEVELOPMENT), any http://localhost, 127.0.0.1 or [::1] port, so a front end on its own
// dev server (Vite's 5173, Next's 3000, …) works without configuration. A deployed worker never has
// LOCAL_DEVELOPMENT (only .dev.vars sets it), so there the list is all there is.
import type { Config } from '../env';

const LOCAL_DEV_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\]):\d{1,5}$/;

export function corsAllows(config: Pick<Config, 'CORS_ORIGINS' | 'LOCAL_DEVELOPMENT'>, origin: string): boolean {
  if (origin && config.CORS_ORIGINS.split(',').some((allowed) => allowed.trim() === origin)) return true;
  return config.LOCAL_DEVELOPMENT && LOCAL_DEV_ORIGIN.test(origin);
}
