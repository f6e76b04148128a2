import { createRoute } from '@hono/zod-openapi';
import { auth, staffOnly } from './auth';
import { bearer, IdParam, jsonBody, jsonResponse, publicRoute, rateLimitedResponses } from '../../lib/openapi';
import { errorResponses } from '../../lib/problem';
import {
  AdminPatchUserBody,
  LoginBody,
  LoginResultSchema,
  PatchMeBody,
  RefreshBody,
  SignupBody,
  TokenPairSchema,
  UserSchema,
  VerifyBody,
  VerifyResultSchema,
} from './schemas';

const tags = ['accounts'];

export const signupRoute = createRoute({
  operationId: 'signUp',
  method: 'post',
  path: '/api/users/signup',
  tags,
  security: publicRoute,
  summary: 'Sign up with email and/or username',
  description: `Public. Limited to SIGNUPS_PER_ADDRESS_PER_HOUR per client address.
Checks, in order: schema → \`password_check\` → email taken → username taken.`,
  request: { body: jsonBody(SignupBody) },
  responses: rateLimitedResponses({
    201: jsonResponse(UserSchema, 'The new user.'),
    ...errorResponses(['PASSWORD_NOT_MATCHED', 'ALREADY_SIGNED_UP_EMAIL', 'USER_ALREADY_EXISTS', 'RATE_LIMITED'], { body: true }),
  }),
});

export const loginRoute = createRoute({
  operationId: 'logIn',
  method: 'post',
  path: '/api/users/login',
  tags,
  security: publicRoute,
  summary: 'Log in with email or username and password',
  description: `Public. The same 401 for an unknown user, a wrong password and an inactive user.
Failures are limited per account (LOGIN_MAX_FAILURES_PER_ACCOUNT) and per client address
(LOGIN_MAX_FAILURES_PER_ADDRESS) within LOGIN_WINDOW_SECONDS; a success resets the account's counter.`,
  request: { body: jsonBody(LoginBody) },
  responses: rateLimitedResponses({
    200: jsonResponse(LoginResultSchema, 'The user and a new session’s token pair.'),
    ...errorResponses(['INVALID_CREDENTIALS', 'RATE_LIMITED'], { body: true }),
  }),
});

export const refreshRoute = createRoute({
  operationId: 'refreshTokens',
  method: 'post',
  path: '/api/users/refresh',
  tags,
  security: publicRoute,
  summary: 'Rotate a refresh token',
  description: `Public. Answers a new access token and a new refresh token; the old refresh token is spent.
Presenting a spent refresh token again is treated as theft and revokes the whole session (every
token of it). Two concurrent refreshes of one token therefore leave one success and a revoked session.`,
  request: { body: jsonBody(RefreshBody) },
  responses: {
    200: jsonResponse(TokenPairSchema, 'The rotated pair.'),
    ...errorResponses(['TOKEN_EXPIRED', 'INVALID_TOKEN'], { body: true }),
  },
});

export const logoutRoute = createRoute({
  operationId: 'logOut',
  method: 'post',
  path: '/api/users/logout',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'Log out: revoke a session',
  description: 'Revokes the session of the given refresh token, which must be the caller’s. Its access tokens are refused at once.',
  request: { body: jsonBody(RefreshBody) },
  responses: {
    204: { description: 'Logged out.' },
    ...errorResponses([], { auth: true, body: true }),
  },
});

export const verifyRoute = createRoute({
  operationId: 'verifyToken',
  method: 'post',
  path: '/api/users/verify',
  tags,
  security: publicRoute,
  summary: 'Verify a token',
  description: 'Public. Checks signature, claims, the session and the user, for an access or a refresh token.',
  request: { body: jsonBody(VerifyBody) },
  responses: {
    200: jsonResponse(VerifyResultSchema, 'The token is valid.'),
    ...errorResponses(['TOKEN_NOT_FOUND', 'TOKEN_EXPIRED', 'INVALID_TOKEN'], { body: true }),
  },
});

export const getMeRoute = createRoute({
  operationId: 'getMe',
  method: 'get',
  path: '/api/users/me',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'The caller',
  description: 'The caller’s account, as signup and login return it.',
  responses: { 200: jsonResponse(UserSchema, 'The caller.'), ...errorResponses([], { auth: true }) },
});

export const patchMeRoute = createRoute({
  operationId: 'updateMe',
  method: 'patch',
  path: '/api/users/me',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'Update the caller’s profile or password',
  description: `Partial update; \`null\` clears a profile field. A password change needs \`current_password\` and signs
out every other session. \`current_password\` is checked under the same limits as login, sharing their
counters: LOGIN_MAX_FAILURES_PER_ADDRESS per client address, LOGIN_MAX_FAILURES_PER_ACCOUNT per account and
address, and per account, past which only addresses that logged into the account within
LOGIN_KNOWN_ADDRESS_DAYS may try; then 429 \`RATE_LIMITED\` with \`Retry-After\`, even for the right password.`,
  request: { body: jsonBody(PatchMeBody) },
  responses: rateLimitedResponses({
    200: jsonResponse(UserSchema, 'The updated caller.'),
    ...errorResponses(['INVALID_CREDENTIALS', 'RATE_LIMITED'], { auth: true, body: true }),
  }),
});

export const adminPatchUserRoute = createRoute({
  operationId: 'updateUser',
  method: 'patch',
  path: '/api/users/{id}',
  tags,
  security: bearer,
  middleware: [staffOnly] as const,
  summary: 'Activate/deactivate a user or grant staff (staff only)',
  description: 'Deactivating a user makes all its tokens answer 401 `INVALID_TOKEN` at once.',
  request: { params: IdParam, body: jsonBody(AdminPatchUserBody) },
  responses: {
    200: jsonResponse(UserSchema, 'The updated user.'),
    ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND'], { auth: true, body: true }),
  },
});
