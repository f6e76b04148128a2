export const DEFAULT_PG_URL: string;
export const MIGRATIONS_PG: string;
export function migratePg(url?: string): Promise<void>;
