// The sales module's public face.
export { sales } from './handlers';
