// The payments module's public face.
export { checkoutPage } from './checkout-page';
export { handleRefunds, REFUND_QUEUE, scheduledSettlement } from './consumer';
export { payments } from './handlers';
export { UserLedger } from './user-ledger';
