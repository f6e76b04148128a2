// The error codes this module answers with (the app's code table is src/errors.ts).
import type { CodeInfo } from '../../lib/codes';

export const PAYMENTS_CODES = {
  ALREADY_REGISTERED: {
    status: 409,
    title: 'Already registered',
    en: 'You are already registered for this item.',
    ko: '이미 신청한 항목입니다.',
    ru: 'Вы уже зарегистрированы на этот элемент.',
  },
  NOT_IN_PERIOD: {
    status: 400,
    title: 'Not in period',
    en: 'Registration is only possible between start_at and end_at.',
    ko: '신청 기간이 아닙니다.',
    ru: 'Регистрация возможна только между start_at и end_at.',
  },
  AMOUNT_MISMATCH: {
    status: 400,
    title: 'Amount mismatch',
    en: 'The amount does not match the price.',
    ko: '결제 금액이 가격과 일치하지 않습니다.',
    ru: 'Сумма не совпадает с ценой.',
  },
  PAYMENT_LIMIT_EXCEEDED: {
    status: 400,
    title: 'Payment limit exceeded',
    en: 'The amount is outside the limits of this payment method.',
    ko: '결제 수단의 한도를 벗어난 금액입니다.',
    ru: 'Сумма вне лимитов этого способа оплаты.',
  },
  REGISTRATION_NOT_FOUND: {
    status: 404,
    title: 'Registration not found',
    en: 'You have no registration for this item.',
    ko: '신청 내역이 없습니다.',
    ru: 'У вас нет регистрации на этот элемент.',
  },
  ALREADY_COMPLETED: {
    status: 409,
    title: 'Already completed',
    en: 'This registration is already completed.',
    ko: '이미 완료된 신청입니다.',
    ru: 'Эта регистрация уже завершена.',
  },
  REGISTRATION_CANCELLED: {
    status: 409,
    title: 'Registration cancelled',
    en: 'This registration was cancelled.',
    ko: '취소된 신청입니다.',
    ru: 'Эта регистрация отменена.',
  },
  PAYMENT_ALREADY_CANCELLED: {
    status: 409,
    title: 'Payment already cancelled',
    en: 'This payment is already cancelled.',
    ko: '이미 취소된 결제입니다.',
    ru: 'Этот платёж уже отменён.',
  },
  REGISTRATION_COMPLETED: {
    status: 409,
    title: 'Registration completed',
    en: 'A completed registration cannot be cancelled.',
    ko: '완료된 신청은 취소할 수 없습니다.',
    ru: 'Завершённую регистрацию нельзя отменить.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'Idempotency key reused',
    en: 'This Idempotency-Key was used with a different request.',
    ko: '다른 요청에 이미 사용된 Idempotency-Key입니다.',
    ru: 'Этот Idempotency-Key уже использован с другим запросом.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    title: 'Idempotent request in progress',
    en: 'A request with this Idempotency-Key is still being processed; retry later.',
    ko: '같은 Idempotency-Key의 요청이 처리 중입니다. 잠시 후 다시 시도해주세요.',
    ru: 'Запрос с этим Idempotency-Key ещё выполняется; повторите позже.',
  },
} as const satisfies Record<string, CodeInfo>;
