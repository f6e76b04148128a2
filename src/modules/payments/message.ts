// The body of a `payment-refunds` queue message: a leaf, so the worker's bindings (src/env.ts) can
// type the queue without importing the module.

export interface RefundMessage {
  type: 'refund';
  user_id: number;
  payment_id: number;
}

export function isRefundMessage(body: unknown): body is RefundMessage {
  const m = body as Partial<RefundMessage> | null;
  return typeof m === 'object' && m !== null && m.type === 'refund' && Number.isSafeInteger(m.user_id) && Number.isSafeInteger(m.payment_id);
}
