// Language negotiation for localised problem details (en, ko, ru).
/** The languages problem details are written in. */
export type Lang = 'en' | 'ko' | 'ru';

export type Texts = Record<Lang, string>;

/** Picks the best supported language from an Accept-Language header (q-values honoured). */
export function pickLang(header: string | undefined | null): Lang {
  if (!header) return 'en';
  let best: Lang = 'en';
  let bestQ = 0;
  for (const part of header.split(',')) {
    const [tag = '', ...params] = part.trim().split(';');
    const base = tag.trim().toLowerCase().split('-')[0];
    if (base !== 'en' && base !== 'ko' && base !== 'ru') continue;
    const qParam = params.find((p) => p.trim().startsWith('q='));
    const q = qParam ? Number(qParam.trim().slice(2)) : 1;
    if (Number.isFinite(q) && q > bestQ) {
      best = base;
      bestQ = q;
    }
  }
  return best;
}
