// Starts Swagger UI on the docs pages (/swagger, /api/docs). A file rather than an inline script, so
// the pages' Content-Security-Policy can forbid inline scripts.
interface SwaggerUIBundleFn {
  (options: Record<string, unknown>): unknown;
  presets: { apis: unknown };
}
declare const SwaggerUIBundle: SwaggerUIBundleFn;

const root = document.getElementById('swagger-ui');
if (root) {
  SwaggerUIBundle({
    domNode: root,
    url: root.dataset.url ?? '/openapi.json',
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    // No badge from validator.swagger.io: the page never leaves this origin.
    validatorUrl: null,
    persistAuthorization: false,
  });
}
