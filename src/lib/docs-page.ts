// GET /swagger and /api/docs: Swagger UI over /openapi.json. Every file comes from this worker's
// static assets (the pinned swagger-ui-dist, copied into dist/web/swagger-ui by `npm run build`),
// so the page works offline, and its Content-Security-Policy allows nothing from elsewhere.
import type { Context } from 'hono';

export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge API — interactive docs</title>
<link rel="stylesheet" href="/swagger-ui/swagger-ui.css">
<link rel="stylesheet" href="/swagger-ui/docs.css">
</head>
<body>
<div class="docs-header"><a href="/">← Console</a> · <a href="/openapi.json">openapi.json</a></div>
<div id="swagger-ui" data-url="/openapi.json"></div>
<script src="/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/swagger-ui/init.js" type="module"></script>
</body>
</html>
`;

export function docsPage(c: Context): Response {
  c.header('Content-Security-Policy', DOCS_CSP);
  c.header('Cache-Control', 'no-cache');
  return c.html(PAGE);
}
