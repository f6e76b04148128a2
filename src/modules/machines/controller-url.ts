// The controller URL policy lives in src/lib/outbound-url.ts: event webhook URLs (src/modules/webhooks)
// follow the same one.
export { controllerUrlProblem, isLoopbackHost, isPrivateHost } from '../../lib/outbound-url';
