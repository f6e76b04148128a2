// The error codes this module answers with (the app's code table is src/errors.ts).
import type { CodeInfo } from '../../lib/codes';

export const REFERRALS_CODES = {
  REFERRAL_CODE_ALREADY_SET: {
    status: 400,
    title: 'Referral code already set',
    en: 'A referral code has already been entered for this account.',
    ko: '이미 추천인 코드를 입력했습니다.',
    ru: 'Реферальный код для этого аккаунта уже указан.',
  },
  OWN_REFERRAL_CODE: {
    status: 400,
    title: 'Own referral code',
    en: 'You cannot use your own referral code.',
    ko: '본인의 추천인 코드는 사용할 수 없습니다.',
    ru: 'Нельзя использовать собственный реферальный код.',
  },
  REFERRAL_CODE_NOT_FOUND: {
    status: 400,
    title: 'Referral code not found',
    en: 'No user has this referral code.',
    ko: '존재하지 않는 추천인 코드입니다.',
    ru: 'Пользователь с таким реферальным кодом не найден.',
  },
} as const satisfies Record<string, CodeInfo>;
