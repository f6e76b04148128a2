// The phone module's public face.
export { phone } from './handlers';
