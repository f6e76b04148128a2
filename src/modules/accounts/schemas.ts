import { z } from '@hono/zod-openapi';
import { isCommonPassword } from '../../lib/common-passwords';

export const UserSchema = z
  .object({
    id: z.number().int(),
    email: z.string().nullable(),
    username: z.string().nullable(),
    name: z.string().nullable(),
    nickname: z.string().nullable(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    phone: z.string().nullable(),
    is_active: z.boolean(),
    is_staff: z.boolean(),
    is_superuser: z.boolean(),
    invite_referral_code: z.string(),
    created_at: z.string().openapi({ example: '2026-11-22T03:00:00.000Z' }),
    last_login: z.string().nullable(),
  })
  .openapi('User');

export const TokenPairSchema = z
  .object({
    access: z.string(),
    refresh: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Access token lifetime in seconds.' }),
  })
  .openapi('TokenPair');

export const LoginResultSchema = z.object({ user: UserSchema, token: TokenPairSchema }).openapi('LoginResult');

const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((s) => s.toLowerCase())
  .openapi({ example: 'ada@example.com' });

/** Control characters and the ASCII punctuation a username may not contain (\x60 is the backtick). */
export const USERNAME_DOC_PATTERN = String.raw`^[^\u0000-\u001F\u007F-\u009F!"#$%&'()*,/:;<=>?\[\\\]^\x60{|}~]+$`;

const username = z
  .string()
  .trim()
  .min(1)
  .max(150)
  .regex(/^[\p{L}\p{N} _.@+-]+$/u, 'letters, digits, spaces and _ . @ + - only')
  .openapi({
    example: 'ada',
    // The document's pattern must read the same with and without the regex `u` flag, so it cannot
    // use \p{L}: it refuses what the server refuses in ASCII and leaves the rest to the description.
    pattern: USERNAME_DOC_PATTERN,
    description: 'Letters and digits of any script (Unicode L and N), spaces and `_ . @ + -`; 1–150 characters after trimming.',
  });

export const password = z
  .string()
  .min(8)
  .max(128)
  .refine((p) => !isCommonPassword(p), 'this password is one of the 1,000 most common; choose another')
  .openapi({ example: 'correct horse battery', description: '8–128 characters, not one of the 1,000 most common passwords.' });
const profileText = z.string().trim().max(150);

export const SignupBody = z
  .object({
    email: email.optional(),
    username: username.optional(),
    password,
    password_check: z.string().max(128).optional(),
    name: profileText.optional(),
    nickname: profileText.optional(),
    first_name: profileText.optional(),
    last_name: profileText.optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.email && !v.username) ctx.addIssue({ code: 'custom', path: ['email'], message: 'email or username is required' });
  })
  .openapi('SignupRequest', {
    description: 'At least one of `email` and `username`. Privilege fields (`is_staff`, …) are ignored.',
  });

export const LoginBody = z
  .object({
    email: z.string().trim().max(254).optional(),
    username: z.string().trim().max(150).optional(),
    password: z.string().min(1).max(1024),
  })
  .superRefine((v, ctx) => {
    if (!v.email && !v.username) ctx.addIssue({ code: 'custom', path: ['email'], message: 'email or username is required' });
  })
  .openapi('LoginRequest');

export const RefreshBody = z.object({ refresh: z.string().min(1).max(8192) }).openapi('RefreshRequest');

export const VerifyBody = z
  .object({ token: z.string().max(8192).optional() })
  .openapi('VerifyRequest', { description: 'An empty or absent `token` answers 401 `TOKEN_NOT_FOUND`.' });

export const VerifyResultSchema = z
  .object({
    valid: z.literal(true),
    user_id: z.number().int(),
    token_type: z.enum(['access', 'refresh']),
    expires_at: z.string(),
  })
  .openapi('VerifyResult');

export const PatchMeBody = z
  .object({
    name: profileText.nullable().optional(),
    nickname: profileText.nullable().optional(),
    first_name: profileText.nullable().optional(),
    last_name: profileText.nullable().optional(),
    password: password.optional(),
    current_password: z.string().max(1024).optional(),
  })
  .openapi('UpdateMeRequest', {
    description:
      'A password change needs `current_password` (unless the account has no password yet, e.g. a phone sign-up) and signs out every other session.',
  });

export const AdminPatchUserBody = z
  .object({ is_active: z.boolean().optional(), is_staff: z.boolean().optional() })
  .openapi('AdminUpdateUserRequest', {
    description: 'Staff only. Only a superuser may set `is_staff`; only a superuser may change another superuser.',
  });
