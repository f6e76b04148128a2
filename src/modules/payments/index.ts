// The payments module's public face.
export { handleRefunds, REFUND_QUEUE, scheduledSettlement } from './consumer';
export { payments } from './handlers';
export { UserLedger } from './user-ledger';
