import { createRoute } from '@hono/zod-openapi';
import { auth } from '../../lib/auth';
import { bearer, jsonBody, jsonResponse, rateLimitedResponses } from '../../lib/openapi';
import { PageQuery } from '../../lib/pagination';
import { errorResponses } from '../../lib/problem';
import './codes';
import { ProfileSchema, ReferredUsersPage, SetReferralBody } from './schemas';

const tags = ['referrals'];

export const getProfileRoute = createRoute({
  operationId: 'getProfile',
  method: 'get',
  path: '/api/profile',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'The caller’s referral profile',
  description: 'The caller’s own invite code, the code they entered (if any), and the users who entered theirs.',
  responses: { 200: jsonResponse(ProfileSchema, 'The profile.'), ...errorResponses([], { auth: true }) },
});

export const setReferralRoute = createRoute({
  operationId: 'setReferralCode',
  method: 'post',
  path: '/api/profile',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'Enter the code of the user who referred the caller (once)',
  description: `Checked in this order: already set → own code → unknown code. Matching is exact and
case-sensitive. The code is set with one conditional update: of concurrent requests with different
codes exactly one is kept. Unknown codes are limited to REFERRAL_GUESSES_PER_HOUR (10) per user
(429 \`RATE_LIMITED\` afterwards), so codes cannot be enumerated.`,
  request: { body: jsonBody(SetReferralBody) },
  responses: rateLimitedResponses({
    200: jsonResponse(ProfileSchema, 'The updated profile.'),
    ...errorResponses(['REFERRAL_CODE_ALREADY_SET', 'OWN_REFERRAL_CODE', 'REFERRAL_CODE_NOT_FOUND', 'RATE_LIMITED'], { auth: true, body: true }),
  }),
});

export const referredUsersRoute = createRoute({
  operationId: 'listReferredUsers',
  method: 'get',
  path: '/api/profile/referred-users',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'Users who used the caller’s code, newest first',
  description: 'A user whose code nobody used gets an empty list.',
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(ReferredUsersPage, 'A page of referred users.'),
    ...errorResponses(['NOT_FOUND'], { auth: true }),
  },
});
