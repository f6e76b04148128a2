// The error codes this module answers with (the app's code table is src/errors.ts).
import type { CodeInfo } from '../../lib/codes';

export const PHONE_CODES = {
  INVALID_PHONE: {
    status: 400,
    title: 'Invalid phone number',
    en: 'The phone number is not valid.',
    ko: '유효하지 않은 전화번호입니다.',
    ru: 'Некорректный номер телефона.',
  },
  VERIFICATION_EXPIRED: {
    status: 400,
    title: 'Verification expired',
    en: 'This verification is unknown, expired or already used; request a new code.',
    ko: '인증 요청이 만료되었거나 이미 사용되었습니다. 인증번호를 다시 요청해주세요.',
    ru: 'Запрос подтверждения не найден, истёк или уже использован; запросите новый код.',
  },
  INVALID_CONFIRM_CODE: {
    status: 400,
    title: 'Wrong code',
    en: 'The confirmation code is wrong.',
    ko: '인증번호가 일치하지 않습니다.',
    ru: 'Неверный код подтверждения.',
  },
  TOO_MANY_ATTEMPTS: {
    status: 429,
    title: 'Too many attempts',
    en: 'Too many wrong codes; request a new code.',
    ko: '인증 시도 횟수를 초과했습니다. 인증번호를 다시 요청해주세요.',
    ru: 'Слишком много неверных кодов; запросите новый код.',
  },
  SMS_NOT_CONFIGURED: {
    status: 503,
    title: 'SMS not configured',
    en: 'Phone login is not available: this server has no SMS provider configured.',
    ko: '휴대폰 로그인을 사용할 수 없습니다: SMS 발송이 설정되지 않았습니다.',
    ru: 'Вход по телефону недоступен: на сервере не настроена отправка SMS.',
  },
  SMS_DELIVERY_FAILED: {
    status: 502,
    title: 'SMS delivery failed',
    en: 'The code could not be sent; try again later.',
    ko: '인증번호를 발송하지 못했습니다. 잠시 후 다시 시도해주세요.',
    ru: 'Не удалось отправить код; попробуйте позже.',
  },
} as const satisfies Record<string, CodeInfo>;
