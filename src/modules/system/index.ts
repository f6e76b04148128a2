// The system module's public face.
export { system } from './handlers';
