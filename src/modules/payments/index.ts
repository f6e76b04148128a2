// The payments module's public face.
export { payments } from './handlers';
export { UserLedger } from './user-ledger';
