// The webhooks module's public face: the endpoints API, the outbox statement other modules add to
// their writes (outbox.ts), the kick after such a write, and the queue consumer and sweep.
export { webhooks } from './handlers';
export { columnsOf, outboxEvent, type EventSource } from './outbox';
export { DELIVERY_QUEUE, fanOutAfterResponse, handleDeliveryBatch, OutboxKicker, SWEEP_CRON, sweepWebhooks } from './delivery';
