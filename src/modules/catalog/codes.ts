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
  SEARCH_TOO_COMPLEX: {
    status: 400,
    title: 'Search too complex',
    en: 'The search has too many words; see max_words.',
    ko: '검색어의 단어 수가 너무 많습니다. max_words를 참고하세요.',
    ru: 'В поиске слишком много слов; см. max_words.',
  },
} as const satisfies Record<string, CodeInfo>;
