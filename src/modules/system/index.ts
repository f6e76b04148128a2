// The system module's public face: health and readiness routes, and the scheduled purge.
export { system } from './handlers';
export { scheduledPurge } from './purge';
