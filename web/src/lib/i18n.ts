// The browser's languages go to the API as Accept-Language, so problem details come back in the
// user's language (the API speaks en, ko and ru). The few messages the console makes itself (no
// network, session ended) are translated here in the same three languages.

export type Lang = 'en' | 'ko' | 'ru';
const SUPPORTED: readonly Lang[] = ['en', 'ko', 'ru'];

function browserLanguages(): readonly string[] {
  return navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
}

/** `ko-KR, ko;q=0.9, en;q=0.8`: the browser's list in order, as the API's negotiation expects. */
export function acceptLanguage(): string {
  return browserLanguages()
    .slice(0, 10)
    .map((tag, i) => (i === 0 ? tag : `${tag};q=${(1 - i / 10).toFixed(1)}`))
    .join(', ');
}

/** The language the API picks for this browser (the first supported one; English otherwise). */
export function apiLang(): Lang {
  for (const tag of browserLanguages()) {
    const base = tag.toLowerCase().split('-')[0] as Lang;
    if (SUPPORTED.includes(base)) return base;
  }
  return 'en';
}

const MESSAGES = {
  network: {
    en: 'The server cannot be reached. Check the connection and try again.',
    ko: '서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도해 주세요.',
    ru: 'Сервер недоступен. Проверьте подключение и попробуйте ещё раз.',
  },
  sessionEnded: {
    en: 'Your session has ended. Please sign in again.',
    ko: '세션이 만료되었습니다. 다시 로그인해 주세요.',
    ru: 'Сеанс завершён. Войдите снова.',
  },
  unexpected: {
    en: 'The server sent an unexpected answer.',
    ko: '서버가 예기치 않은 응답을 보냈습니다.',
    ru: 'Сервер вернул неожиданный ответ.',
  },
} satisfies Record<string, Record<Lang, string>>;

export function message(key: keyof typeof MESSAGES): string {
  return MESSAGES[key][apiLang()];
}
