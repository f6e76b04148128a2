// GET /api/payments/checkout?payment={id}: the one page of the console that pays through a real
// provider's browser SDK (Stripe.js Payment Element, PortOne's browser SDK). It is served by the
// worker, not the static assets, because only here, and only for the configured provider, may the
// Content-Security-Policy allow that provider's origins: the rest of the console keeps the strict
// policy of web/public/_headers in every mode. With the simulated provider there is nothing to pay
// in a browser, and the page is 404.
import type { Context } from 'hono';
import type { AppEnv } from '../../context';
import { ApiError } from '../../lib/problem';

const BASE = ["default-src 'none'", "style-src 'self'", "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"];

/** Exactly what each provider's browser SDK needs (Stripe's and PortOne's published CSP lists). */
export const CHECKOUT_CSP = {
  stripe: [
    ...BASE,
    "script-src 'self' https://js.stripe.com https://*.js.stripe.com",
    'frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com',
    "connect-src 'self' https://api.stripe.com https://m.stripe.network",
    "img-src 'self' data: https://*.stripe.com",
  ].join('; '),
  portone: [
    ...BASE,
    "script-src 'self' https://cdn.portone.io",
    'frame-src https://*.portone.io https://*.iamport.co',
    "connect-src 'self' https://*.portone.io",
    "img-src 'self' data: https://*.portone.io",
  ].join('; '),
} as const;

const PERMISSIONS = {
  stripe: 'camera=(), microphone=(), geolocation=(), payment=(self "https://js.stripe.com")',
  portone: 'camera=(), microphone=(), geolocation=(), payment=(self)',
} as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Pay — Edge console</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/checkout/app.js" type="module"></script>
</head>
<body>
<main id="checkout" class="checkout"><p class="loading" role="status">Loading the payment…</p></main>
<noscript><p>Paying needs JavaScript.</p></noscript>
</body>
</html>
`;

export function checkoutPage(c: Context<AppEnv>): Response {
  const provider = c.var.ctx.config.PAYMENT_PROVIDER;
  if (provider === 'simulated') throw new ApiError('NOT_FOUND');
  c.header('Content-Security-Policy', CHECKOUT_CSP[provider]);
  c.header('Permissions-Policy', PERMISSIONS[provider]);
  c.header('Cache-Control', 'no-store');
  return c.html(PAGE);
}
