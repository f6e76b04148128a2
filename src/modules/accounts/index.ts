// The accounts module's public face: what routes, other modules and the worker use of it.
export { accounts } from './handlers';
export {
  auth,
  authenticate,
  bearerToken,
  deferredAuth,
  optionalUserId,
  readAuth,
  requireAuth,
  staffOnly,
  staffReadAuth,
  type AuthContext,
} from './auth';
export { userBy, userExists, type UserRow } from './repository';
export { onAccessRevoked, type Revoked } from './revocations';
export { insertUser, isKnownAddress, rememberAddress, startSession, userView } from './service';
export { TokenPairSchema, UserSchema } from './schemas';
