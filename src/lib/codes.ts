// The codes every part of the API may answer with, and the shape of a code's entry. Each module
// lists its own in its codes.ts; src/errors.ts joins them into the one table.
import type { Texts } from './i18n';

export interface CodeInfo extends Texts {
  status: number;
  title: string;
}

export const COMMON_CODES = {
  INPUT_VALIDATION_ERROR: {
    status: 400,
    title: 'Invalid input',
    en: 'The request is invalid; see errors for each failing field.',
    ko: '유효하지않은 입력입니다.',
    ru: 'Некорректный запрос; подробности по каждому полю в errors.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported media type',
    en: 'The request body must be JSON (Content-Type: application/json).',
    ko: '요청 본문은 JSON이어야 합니다 (Content-Type: application/json).',
    ru: 'Тело запроса должно быть в формате JSON (Content-Type: application/json).',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: 'Payload too large',
    en: 'The request body is too large.',
    ko: '요청 본문이 너무 큽니다.',
    ru: 'Тело запроса слишком большое.',
  },
  TOKEN_NOT_FOUND: {
    status: 401,
    title: 'Token not found',
    en: 'Authentication credentials were not provided.',
    ko: '로그인이 필요합니다.',
    ru: 'Не переданы учётные данные.',
  },
  TOKEN_EXPIRED: {
    status: 401,
    title: 'Token expired',
    en: 'The token has expired.',
    ko: '인증정보가 유효하지 않습니다. 새롭게 로그인 해주세요.',
    ru: 'Срок действия токена истёк.',
  },
  INVALID_TOKEN: {
    status: 401,
    title: 'Invalid token',
    en: 'The token is invalid or has been revoked.',
    ko: '인증정보가 유효하지 않습니다. 새롭게 로그인 해주세요.',
    ru: 'Токен недействителен или отозван.',
  },
  INVALID_CREDENTIALS: {
    status: 401,
    title: 'Invalid credentials',
    en: 'The credentials are incorrect.',
    ko: '이메일 또는 비밀번호가 올바르지 않습니다.',
    ru: 'Неверные учётные данные.',
  },
  PERMISSION_DENIED: {
    status: 403,
    title: 'Permission denied',
    en: 'You do not have permission to perform this action.',
    ko: '권한이 없습니다.',
    ru: 'Недостаточно прав для этого действия.',
  },
  NOT_FOUND: {
    status: 404,
    title: 'Not found',
    en: 'The resource was not found.',
    ko: '요청한 리소스를 찾을 수 없습니다.',
    ru: 'Ресурс не найден.',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method not allowed',
    en: 'This method is not allowed on this resource.',
    ko: '허용되지 않은 메서드입니다.',
    ru: 'Метод не разрешён для этого ресурса.',
  },
  RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    en: 'Too many attempts; retry after the time in Retry-After.',
    ko: '요청이 너무 많습니다. 잠시 후 다시 시도해주세요.',
    ru: 'Слишком много попыток; повторите позже (см. Retry-After).',
  },
  INTERNAL_ERROR: {
    status: 500,
    title: 'Internal error',
    en: 'An unexpected error occurred; quote the instance id when reporting it.',
    ko: '서버 오류가 발생했습니다.',
    ru: 'Внутренняя ошибка сервера; укажите instance при обращении.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    title: 'Service unavailable',
    en: 'The service is temporarily unavailable.',
    ko: '서비스를 일시적으로 사용할 수 없습니다.',
    ru: 'Сервис временно недоступен.',
  },
} as const satisfies Record<string, CodeInfo>;
