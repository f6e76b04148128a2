// The values the API and the web console (web/) must agree on, in one leaf module both import: the
// enums of the API's fields, the machine state machine, and the frames of a machine's live feed
// (GET /api/machines/{id}/live). It imports nothing, so the console's bundle takes these constants
// and none of the worker (docs/console.md "The contract with the API").

export const MACHINE_STATUSES = ['POWEROFF', 'READY', 'RUNNING', 'PAUSE', 'ERROR'] as const;
export type MachineStatus = (typeof MACHINE_STATUSES)[number];
export const MACHINE_COMMANDS = ['START', 'STOP', 'PAUSE', 'POWER_ON', 'POWER_OFF', 'RESET'] as const;
export type MachineCommand = (typeof MACHINE_COMMANDS)[number];
export const OPERATION_RESULTS = ['PENDING', 'SUCCESS', 'REMOTEFAILED', 'INTERNALFAILED'] as const;
export type OperationResult = (typeof OPERATION_RESULTS)[number];

export const ORDER_STATUSES = ['PENDING', 'PAID', 'SHIPPING', 'COMPLETED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const PAYMENT_METHODS = ['kakaopay', 'card', 'bank_transfer'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** Who moves the money (contract 4.1): `simulated` moves none. */
export const PAYMENT_PROVIDERS = ['simulated', 'stripe', 'portone'] as const;
export type PaymentProviderName = (typeof PAYMENT_PROVIDERS)[number];
/** A payment's statuses (docs/payments-providers.md has the state diagram). */
export const PAYMENT_STATUSES = ['pending', 'paid', 'cancelled', 'refund_pending', 'expired', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
/** A registration's statuses: `pending` waits for its payment and is not active. */
export const REGISTRATION_STATUSES = ['pending', 'applied', 'enrolled', 'completed', 'cancelled'] as const;
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number];

/** The machine state machine: which statuses each command applies in, and the status it leads to. */
export const MACHINE_TRANSITIONS: Record<MachineCommand, { from: readonly MachineStatus[]; to: MachineStatus }> = {
  POWER_ON: { from: ['POWEROFF'], to: 'READY' },
  START: { from: ['READY', 'PAUSE'], to: 'RUNNING' },
  PAUSE: { from: ['RUNNING'], to: 'PAUSE' },
  STOP: { from: ['RUNNING', 'PAUSE'], to: 'READY' },
  POWER_OFF: { from: ['READY'], to: 'POWEROFF' },
  RESET: { from: ['ERROR'], to: 'READY' },
};

/** The status after `command`, or null when the command does not apply in `status`. */
export function nextStatus(status: MachineStatus, command: MachineCommand): MachineStatus | null {
  const t = MACHINE_TRANSITIONS[command];
  return t.from.includes(status) ? t.to : null;
}

/** An operation as the API shows it (the `MachineOperation` schema). */
export interface LiveOperation {
  id: number;
  machine_id: number;
  machine_owner_id: number;
  worker_id: number | null;
  command: MachineCommand;
  result: OperationResult;
  request_datetime: string;
  completed_at: string | null;
  detail: string | null;
}

/** The JSON frames of GET /api/machines/{id}/live (besides the 'pong' answer to a 'ping'). */
export type LiveEvent =
  | {
      type: 'status';
      machine_id: number;
      status: MachineStatus;
      previous: MachineStatus | null;
      /** Sent in the first frame after connecting: the commands accepted and not yet run. */
      pending_operations?: { id: number; command: MachineCommand }[];
      at: string;
    }
  | { type: 'operation'; operation: LiveOperation }
  | { type: 'deleted'; machine_id: number };

/** The event types a webhook endpoint may subscribe to (contract section 8; order.* are for staff). */
export const WEBHOOK_EVENT_TYPES = [
  'payment.pending',
  'payment.paid',
  'payment.cancelled',
  'payment.refunded',
  'payment.expired',
  'registration.completed',
  'machine.status_changed',
  'machine.operation.succeeded',
  'machine.operation.failed',
  'order.created',
  'order.status_changed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What the client needs to pay a pending payment with the provider's browser SDK (the payment's `checkout`). */
export type Checkout =
  | { provider: 'stripe'; client_secret: string; publishable_key: string }
  | {
      provider: 'portone';
      store_id: string;
      channel_key: string;
      payment_id: string;
      order_name: string;
      total_amount: number;
      currency: string;
      pay_method: 'CARD' | 'EASY_PAY' | 'TRANSFER';
    };
