// The error codes this module answers with (the app's code table is src/errors.ts).
import type { CodeInfo } from '../../lib/codes';

export const CATALOG_CODES = {
  HAS_REGISTRATIONS: {
    status: 409,
    title: 'Has registrations',
    en: 'This item has active registrations and cannot be deleted.',
    ko: '등록된 사용자가 있어 삭제할 수 없습니다.',
    ru: 'У этого элемента есть активные регистрации, удаление невозможно.',
  },
} as const satisfies Record<string, CodeInfo>;
