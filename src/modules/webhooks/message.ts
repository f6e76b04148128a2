// The body of a `webhook-deliveries` queue message: a leaf, so the worker's bindings (src/env.ts) can
// type the queue without importing the module.
export interface DeliveryMessage {
  delivery_id: number;
}
