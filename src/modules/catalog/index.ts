// The catalog module's public face.
export { catalog } from './handlers';
export { ACTIVE_STATUSES, KINDS, kindOfType, type Kind, type KindConfig } from './kinds';
