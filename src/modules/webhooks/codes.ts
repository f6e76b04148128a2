// The error codes this module answers with (the app's code table is src/errors.ts).
import type { CodeInfo } from '../../lib/codes';

export const WEBHOOKS_CODES = {
  TOO_MANY_ENDPOINTS: {
    status: 409,
    title: 'Too many webhook endpoints',
    en: 'You already have the most webhook endpoints allowed; delete one before adding another.',
    ko: '웹훅 엔드포인트를 더 이상 추가할 수 없습니다. 기존 엔드포인트를 삭제한 후 다시 시도하세요.',
    ru: 'У вас уже максимальное число webhook-адресов; удалите один, прежде чем добавлять новый.',
  },
  DELIVERY_PENDING: {
    status: 409,
    title: 'Delivery pending',
    en: 'This delivery is still pending: it will be attempted again on its schedule.',
    ko: '이 전송은 아직 대기 중이며 예정된 시간에 다시 시도됩니다.',
    ru: 'Эта доставка ещё ожидает: она будет повторена по расписанию.',
  },
} as const satisfies Record<string, CodeInfo>;
