import { z } from '@hono/zod-openapi';
import { TokenPairSchema, UserSchema } from '../accounts';

export const PhoneLoginBody = z
  .object({ phone: z.string().trim().min(1).max(32).openapi({ example: '010-1234-5678' }) })
  .openapi('PhoneLoginRequest', {
    description: 'Any common notation; a number without `+` is read in DEFAULT_PHONE_REGION (KR).',
  });

export const PhoneLoginResult = z
  .object({
    phone: z.string().openapi({ example: '+821012345678', description: 'The number normalised to E.164.' }),
    verification_token: z.string().openapi({ description: 'Unguessable (192 bits); valid for `expires_in` seconds.' }),
    expires_in: z.number().int(),
    next: z.string().openapi({
      description:
        'Absolute URL to POST `{ verification_token, confirm_code }` to (`POST /api/users/phone/verify`). It carries no token: URLs end up in access logs.',
    }),
    dev_code: z.string().optional().openapi({ description: 'Only with SMS_PROVIDER=console, which works only in local development.' }),
  })
  .openapi('PhoneLoginResult');

const VerificationToken = z.string().min(1).max(128);

export const VerifyParams = z.object({
  verification_token: VerificationToken.openapi({ param: { name: 'verification_token', in: 'path' } }),
});

const ConfirmCode = z
  .string()
  .regex(/^\d{4,8}$/, 'the code is 4 to 8 digits')
  .openapi({ example: '0427' });

/** The body of the deprecated path, whose URL carries the token. */
export const PhoneVerifyBody = z.object({ confirm_code: ConfirmCode }).openapi('PhoneVerifyRequest');

export const PhoneConfirmBody = z
  .object({
    verification_token: VerificationToken.openapi({ description: 'The `verification_token` of the code request.' }),
    confirm_code: ConfirmCode,
  })
  .openapi('PhoneConfirmRequest');

export const PhoneVerifyResult = z.object({ user: UserSchema, token: TokenPairSchema, created: z.boolean() }).openapi('PhoneVerifyResult');
