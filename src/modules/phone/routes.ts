import { createRoute } from '@hono/zod-openapi';
import { bearer, jsonBody, jsonResponse, publicRoute, rateLimitedResponses } from '../../lib/openapi';
import { errorResponses } from '../../lib/problem';
import { PhoneConfirmBody, PhoneLoginBody, PhoneLoginResult, PhoneVerifyBody, PhoneVerifyResult, VerifyParams } from './schemas';

const tags = ['phone login'];

export const phoneLoginRoute = createRoute({
  operationId: 'sendPhoneCode',
  method: 'post',
  path: '/api/users/phone/login',
  tags,
  // Public; a bearer token of the phone's own user is optional and only lets it use the owner's budget.
  security: [{}, ...bearer],
  summary: 'Send a one-time code to a phone',
  description: `Public. Normalises the number to E.164 and sends a PHONE_CODE_LENGTH-digit code (default 4) that
lives PHONE_CODE_TTL seconds (default 300). Limits: PHONE_SENDS_PER_ADDRESS_PER_HOUR (50) per client
address, and per phone one send per PHONE_SEND_INTERVAL_SECONDS (60) and PHONE_SENDS_PER_HOUR (5) in each
of two budgets: one for the phone's owner (a request from an address that logged into the phone's
account within LOGIN_KNOWN_ADDRESS_DAYS, a phone verify included, or with an access token of that account;
policies \`phone-send-interval-owner\`, \`phone-send-hour-owner\`), one shared by everyone else, so others'
requests never spend the owner's. A token that is not valid is ignored (the request is then a stranger's).
No new code for a phone that spent its PHONE_MAX_FAILURES_PER_DAY (20) wrong codes. \`dev_code\` appears only
with SMS_PROVIDER=console, which works only in local development (LOCAL_DEVELOPMENT). A server with no
usable SMS provider (none set, or console outside local development) answers 503 \`SMS_NOT_CONFIGURED\`
and sends nothing; a failing SMS webhook answers 502 \`SMS_DELIVERY_FAILED\`.`,
  request: { body: jsonBody(PhoneLoginBody) },
  responses: rateLimitedResponses({
    200: jsonResponse(PhoneLoginResult, 'The code was sent.'),
    ...errorResponses(['INVALID_PHONE', 'SMS_DELIVERY_FAILED', 'SMS_NOT_CONFIGURED', 'RATE_LIMITED'], { body: true }),
  }),
});

const VERIFY = `Public. A phone without a user gets one on its first successful verify (\`created: true\`).
At most PHONE_MAX_ATTEMPTS (5) judged codes per token, then 429 \`TOO_MANY_ATTEMPTS\` even for the right
code; a token works once. \`INVALID_CONFIRM_CODE\` carries \`remaining_attempts\`. The tokens are the same
JWT pair as password login.`;

const verifyResponses = rateLimitedResponses({
  200: jsonResponse(PhoneVerifyResult, 'Logged in.'),
  ...errorResponses(['VERIFICATION_EXPIRED', 'INVALID_CONFIRM_CODE', 'TOO_MANY_ATTEMPTS', 'RATE_LIMITED', 'INVALID_CREDENTIALS'], { body: true }),
});

export const phoneConfirmRoute = createRoute({
  operationId: 'confirmPhoneCode',
  method: 'post',
  path: '/api/users/phone/verify',
  tags,
  security: publicRoute,
  summary: 'Verify the code: log in (or sign up) by phone',
  description: `${VERIFY}
The verification token goes in the body (never in the URL, which access logs record).`,
  request: { body: jsonBody(PhoneConfirmBody) },
  responses: verifyResponses,
});

export const phoneVerifyRoute = createRoute({
  operationId: 'verifyPhoneCode',
  method: 'post',
  path: '/api/users/phone/verify/{verification_token}',
  tags,
  security: publicRoute,
  deprecated: true,
  summary: 'Verify the code, the token in the path (deprecated: use POST /api/users/phone/verify)',
  description: `Deprecated: use \`POST /api/users/phone/verify\` with \`{ "verification_token", "confirm_code" }\` in the
body. This path puts the verification token in the URL, so access logs, proxies and traces that record URLs keep a
token that, with a code, signs in as the phone's owner. It still works, the same way, for clients built before.
${VERIFY}`,
  request: { params: VerifyParams, body: jsonBody(PhoneVerifyBody) },
  responses: verifyResponses,
});
