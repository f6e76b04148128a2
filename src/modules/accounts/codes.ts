// The error codes this module answers with (the app's code table is src/errors.ts).
import type { CodeInfo } from '../../lib/codes';

export const ACCOUNTS_CODES = {
  ALREADY_SIGNED_UP_EMAIL: {
    status: 400,
    title: 'Already signed up',
    en: 'This email is already registered.',
    ko: '이미 가입된 이메일입니다.',
    ru: 'Этот email уже зарегистрирован.',
  },
  PASSWORD_NOT_MATCHED: {
    status: 400,
    title: 'Passwords do not match',
    en: 'The passwords do not match.',
    ko: '비밀번호가 서로 다릅니다',
    ru: 'Пароли не совпадают.',
  },
  USER_ALREADY_EXISTS: {
    status: 400,
    title: 'Username taken',
    en: 'This username is already taken.',
    ko: '이미 존재하는 사용자입니다.',
    ru: 'Это имя пользователя уже занято.',
  },
} as const satisfies Record<string, CodeInfo>;
