// The body of a `webhook-deliveries` queue message: a leaf, so the worker's bindings (src/env.ts) can
// type the queue without importing the module. Either one delivery to attempt, or a request to fan out
// the outbox (sent right after a write that added events; a batch of them makes one fan-out).
export type DeliveryMessage = { delivery_id: number } | { fan_out: true };
