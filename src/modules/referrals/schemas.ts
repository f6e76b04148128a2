import { z } from '@hono/zod-openapi';
import { pageSchema } from '../../lib/pagination';

export const ProfileSchema = z
  .object({
    id: z.number().int(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    username: z.string().nullable(),
    invite_referral_code: z.string(),
    used_referral_code: z.string().nullable(),
    referred_by_id: z.number().int().nullable(),
    referred_users: z.array(z.string()).openapi({
      description: 'Identifiers (phone, else email, else username) of the 100 most recent users who used the caller’s code.',
    }),
    referred_count: z.number().int().openapi({ description: 'All users who used the caller’s code.' }),
  })
  .openapi('Profile');

export const SetReferralBody = z
  .object({
    used_referral_code: z
      .string()
      .regex(/^[A-Za-z0-9]{6}$/, '6 characters from A–Z, a–z, 0–9')
      .openapi({ example: 'aB3dE9' }),
  })
  .openapi('SetReferralRequest');

export const ReferredUserSchema = z
  .object({
    id: z.number().int(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    username: z.string().nullable(),
    referred_at: z.string(),
  })
  .openapi('ReferredUser');

export const ReferredUsersPage = pageSchema(ReferredUserSchema, 'ReferredUsersPage');
