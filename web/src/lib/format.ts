// Numbers and dates in the browser's locale; money in the item's own currency.

const locale = () => navigator.languages?.[0] ?? navigator.language ?? 'en';

export function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toLocaleString(locale())} ${currency}`;
  }
}

export const count = (n: number) => n.toLocaleString(locale());

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function date(iso: string): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso));
}

/** `YYYY-MM-DD` of a Date in the browser's zone (the value of an <input type="date">). */
export function isoDay(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
