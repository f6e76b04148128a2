// SMS delivery behind one small interface. `console` (local development) logs the code and lets the
// API return it as `dev_code`; `webhook` POSTs {phone, code} to SMS_WEBHOOK_URL and never exposes it.
// The console provider hands any phone's code to whoever asks, so it works only where the worker
// knows it runs locally (LOCAL_DEVELOPMENT); without a usable provider no code is sent (503).
import type { Ctx } from '../../context';
import { logLine } from '../../lib/log';
import { ApiError } from '../../lib/problem';

export interface SmsProvider {
  /** Whether the API may return the code to the caller (only for local development). */
  readonly exposesCode: boolean;
  send(phone: string, code: string): Promise<void>;
}

const WEBHOOK_TIMEOUT_MS = 5_000;

/** A phone number with all but its country code and last 4 digits hidden (+82******5678). */
const maskPhone = (phone: string) =>
  phone.replace(/^(\+\d{2})(\d+)(\d{4})$/, (_, cc: string, mid: string, last: string) => cc + '*'.repeat(mid.length) + last);

// Development only: it prints the code on purpose (the API returns it as `dev_code` too), so this is
// the one log line that carries a code; the phone is masked. tests/log-guard.ts exempts this line by
// its `msg`, and nothing else.
const consoleProvider: SmsProvider = {
  exposesCode: true,
  async send(phone, code) {
    logLine('info', 'sms (console provider)', { phone: maskPhone(phone), code });
  },
};

function webhookProvider(url: string): SmsProvider {
  return {
    exposesCode: false,
    async send(phone, code) {
      let status = 0;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ phone, code }),
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        status = res.status;
        await res.body?.cancel();
      } catch (err) {
        logLine('error', 'sms webhook unreachable', { error: String(err) });
      }
      if (status < 200 || status >= 300) {
        if (status) logLine('error', 'sms webhook refused', { status });
        throw new ApiError('SMS_DELIVERY_FAILED');
      }
    },
  };
}

/** The configured provider; none (unset, unknown, console outside local development) is a 503. */
export function smsProvider(ctx: Ctx): SmsProvider {
  const cfg = ctx.config;
  if (cfg.SMS_PROVIDER === 'console' && cfg.LOCAL_DEVELOPMENT) return consoleProvider;
  if (cfg.SMS_PROVIDER === 'webhook' && cfg.SMS_WEBHOOK_URL) return webhookProvider(cfg.SMS_WEBHOOK_URL);
  // The raw values, so the operator sees what was set (neither is a secret).
  const provider = String(ctx.env.SMS_PROVIDER ?? '');
  logLine('error', 'SMS provider not configured', { provider, local_development: cfg.LOCAL_DEVELOPMENT });
  throw new ApiError('SMS_NOT_CONFIGURED');
}
