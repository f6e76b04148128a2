// Small building blocks shared by the pages: error notices, loading and empty states, a pager,
// labelled form fields and status badges.
import type { Child } from 'hono/jsx';
import { useId, useRef } from 'hono/jsx/dom';
import type { ApiProblem } from '../lib/api';
import { type Async, usePageEffect } from '../lib/hooks';

/** An API problem in the user's language, with one line per failing field. */
export function ErrorNotice({ error }: { error: ApiProblem | null | undefined }) {
  if (!error) return null;
  return (
    <div class="notice error" role="alert" lang={error.lang} data-code={error.code}>
      <p>{error.detail}</p>
      {error.errors.length > 0 && (
        <ul>
          {error.errors.map((e) => (
            <li key={e.path}>
              {e.path ? <code>{e.path}</code> : null} {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { children: Child; kind?: 'info' | 'success' }) {
  return (
    <div class={`notice ${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ what = 'Loading…' }: { what?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      {what}
    </p>
  );
}

export function Empty({ children }: { children: Child }) {
  return <p class="empty">{children}</p>;
}

/**
 * A list read's states, the same on every page: its error (or the page action's), "Loading…" until
 * the first answer, the empty message when there are no rows, else the rows (kept on screen and
 * marked busy while a reload runs).
 */
export function ListState<T>({
  list,
  loading,
  empty,
  error,
  render,
}: {
  list: Pick<Async<{ results: T[] }>, 'data' | 'error' | 'loading'>;
  loading: string;
  empty: Child;
  error?: ApiProblem | null;
  render: (rows: T[], busy: boolean) => Child;
}) {
  const rows = list.data?.results;
  return (
    <>
      <ErrorNotice error={list.error ?? error} />
      {list.loading && !rows ? <Loading what={loading} /> : rows?.length === 0 ? <Empty>{empty}</Empty> : rows && render(rows, list.loading)}
    </>
  );
}

/** Previous/next for page-numbered lists (page is 1-based; count may be absent with cursors). */
export function Pager({
  page,
  pageSize,
  count,
  hasNext,
  onPage,
}: {
  page: number;
  pageSize: number;
  count?: number;
  hasNext: boolean;
  onPage: (page: number) => void;
}) {
  const pages = count === undefined ? undefined : Math.max(1, Math.ceil(count / pageSize));
  if (page === 1 && !hasNext) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ← Previous
      </button>
      <span aria-live="polite">
        Page {page}
        {pages ? ` of ${pages}` : ''}
      </span>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        Next →
      </button>
    </nav>
  );
}

interface FieldProps {
  label: string;
  name: string;
  type?: string;
  value?: string | number;
  required?: boolean;
  autocomplete?: string;
  hint?: string;
  inputmode?: 'numeric' | 'decimal' | 'tel' | 'email';
  min?: string | number;
  max?: string | number;
  maxlength?: number;
  pattern?: string;
  placeholder?: string;
  list?: string;
}

/** A labelled input; the hint is tied to it with aria-describedby. */
export function Field({ label, hint, value, ...input }: FieldProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} value={value ?? ''} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

export function Select({
  label,
  name,
  value,
  options,
  onChange,
}: {
  label: string;
  name: string;
  value?: string;
  options: [string, string][];
  onChange?: (value: string) => void;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} name={name} value={value ?? ''} onChange={onChange ? (e: Event) => onChange((e.target as HTMLSelectElement).value) : undefined}>
        {options.map(([v, text]) => (
          <option key={v} value={v} selected={v === (value ?? '')}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Badge({ value, kind }: { value: string; kind?: string }) {
  return <span class={`badge badge-${(kind ?? value).toLowerCase()}`}>{value}</span>;
}

/** A modal dialog (native <dialog>: focus stays inside, Esc closes it); closing calls onClose. */
export function Modal({ labelledBy, onClose, children }: { labelledBy: string; onClose: () => void; children: Child }) {
  const ref = useRef<HTMLDialogElement>(null);
  usePageEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={labelledBy} onClose={onClose}>
      {children}
    </dialog>
  );
}

/** Moves focus to the page heading when a page opens, so keyboard and screen-reader users start there. */
export function PageTitle({ children }: { children: Child }) {
  const ref = useRef<HTMLHeadingElement>(null);
  usePageEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabindex={-1} ref={ref}>
      {children}
    </h1>
  );
}

/** The values of a submitted form, as strings (empty fields included). */
export function formValues(e: Event): Record<string, string> {
  e.preventDefault();
  const data = new FormData(e.target as HTMLFormElement);
  return Object.fromEntries([...data].map(([k, v]) => [k, String(v)]));
}
