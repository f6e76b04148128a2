// The machines module's public face.
export { handleQueue, type CommandMessage } from './consumer';
export { machines } from './handlers';
export { MachineDO } from './machine.do';
export { closeRevokedWatchers } from './service';
