// The code table: every error code of the API with its status, title and texts (en/ko/ru). A code
// is a type, so `new ApiError('TYPO')` does not compile; the table is built here from each module's
// list, with no registration at import time. Korean texts of codes the original services had are
// their exact strings.
import { COMMON_CODES, type CodeInfo } from './lib/codes';
import { ACCOUNTS_CODES } from './modules/accounts/codes';
import { CATALOG_CODES } from './modules/catalog/codes';
import { MACHINES_CODES } from './modules/machines/codes';
import { PAYMENTS_CODES } from './modules/payments/codes';
import { PHONE_CODES } from './modules/phone/codes';
import { REFERRALS_CODES } from './modules/referrals/codes';
import { SALES_CODES } from './modules/sales/codes';
import { WEBHOOKS_CODES } from './modules/webhooks/codes';

export const CODES = {
  ...COMMON_CODES,
  ...ACCOUNTS_CODES,
  ...PHONE_CODES,
  ...REFERRALS_CODES,
  ...CATALOG_CODES,
  ...PAYMENTS_CODES,
  ...SALES_CODES,
  ...MACHINES_CODES,
  ...WEBHOOKS_CODES,
} satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof CODES;
