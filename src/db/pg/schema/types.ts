import { customType } from 'drizzle-orm/pg-core';

/**
 * A boolean stored as 0/1 in an integer column, exactly like the D1 schema's
 * `integer(..., { mode: 'boolean' })`: the same raw SQL (`is_first_purchase = 1`) runs on both.
 */
export const intBool = customType<{ data: boolean; driverData: number }>({
  dataType: () => 'integer',
  toDriver: (value) => (value ? 1 : 0),
  fromDriver: (value) => Number(value) === 1,
});
