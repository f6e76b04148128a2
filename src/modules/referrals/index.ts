// The referrals module's public face.
export { referrals } from './handlers';
