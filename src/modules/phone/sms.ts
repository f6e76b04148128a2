// SMS delivery behind one small interface. `console` (local development) logs the code and lets the
// API return it as `dev_code`; `webhook` POSTs {phone, code} to SMS_WEBHOOK_URL, signed by the
// Standard Webhooks scheme with SMS_WEBHOOK_SECRET (src/lib/signing.ts; parseConfig refuses the
// provider without it); `twilio` calls Twilio's Messages API. Neither of the last two exposes the code,
// and no log line carries the code, the phone, Twilio's auth token or Twilio's error text (which may
// quote the number): a failure is logged by status and Twilio's numeric error code only.
// The console provider hands any phone's code to whoever asks, so it works only where the worker
// knows it runs locally (LOCAL_DEVELOPMENT); without a usable provider no code is sent (503).
import type { Ctx } from '../../context';
import { logLine } from '../../lib/log';
import { ApiError } from '../../lib/problem';
import { messageId, signMessage } from '../../lib/signing';

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

function webhookProvider(url: string, secret: string): SmsProvider {
  return {
    exposesCode: false,
    async send(phone, code) {
      let status = 0;
      try {
        const body = JSON.stringify({ phone, code });
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signMessage({ current: secret }, messageId('msg'), body) },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
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

export interface TwilioSettings {
  apiBase: string;
  accountSid: string;
  authToken: string;
  from: string;
  messagingServiceSid: string;
}

/** Twilio's error body (https://www.twilio.com/docs/usage/twilios-response): only `code` is logged. */
interface TwilioError {
  code?: number;
  status?: number;
}

/**
 * Twilio's Messages API as Twilio documents it: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`,
 * form-encoded `To`, `From` (or `MessagingServiceSid` when no From is set) and `Body`, HTTP Basic
 * auth with the account SID and auth token; 201 with the Message resource is success.
 */
export function twilioProvider(t: TwilioSettings): SmsProvider {
  const url = `${t.apiBase.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(t.accountSid)}/Messages.json`;
  const authorization = `Basic ${btoa(`${t.accountSid}:${t.authToken}`)}`;
  return {
    exposesCode: false,
    async send(phone, code) {
      const form = new URLSearchParams({ To: phone });
      if (t.from) form.set('From', t.from);
      else form.set('MessagingServiceSid', t.messagingServiceSid);
      form.set('Body', `Your verification code is ${code}`);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
          redirect: 'manual',
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
      } catch (err) {
        logLine('error', 'twilio unreachable', { error: err instanceof Error ? err.name : 'error' });
        throw new ApiError('SMS_DELIVERY_FAILED');
      }
      // Read to the end (a cancelled body of a kept-alive connection fails it under the runtime).
      if (res.status >= 200 && res.status < 300) {
        await res.arrayBuffer().catch(() => undefined);
        return;
      }
      const error = (await res.json().catch(() => ({}))) as TwilioError;
      logLine('error', 'twilio refused the message', { status: res.status, twilio_code: typeof error.code === 'number' ? error.code : null });
      throw new ApiError('SMS_DELIVERY_FAILED');
    },
  };
}

/** The configured provider; none (unset, unknown, console outside local development) is a 503. */
export function smsProvider(ctx: Ctx): SmsProvider {
  const cfg = ctx.config;
  if (cfg.SMS_PROVIDER === 'console' && cfg.LOCAL_DEVELOPMENT) return consoleProvider;
  // parseConfig has refused a webhook without its secret and a twilio without its credentials.
  if (cfg.SMS_PROVIDER === 'webhook' && cfg.SMS_WEBHOOK_URL && cfg.SMS_WEBHOOK_SECRET)
    return webhookProvider(cfg.SMS_WEBHOOK_URL, cfg.SMS_WEBHOOK_SECRET);
  if (cfg.SMS_PROVIDER === 'twilio' && cfg.TWILIO_AUTH_TOKEN) {
    return twilioProvider({
      apiBase: cfg.TWILIO_API_BASE,
      accountSid: cfg.TWILIO_ACCOUNT_SID,
      authToken: cfg.TWILIO_AUTH_TOKEN,
      from: cfg.TWILIO_FROM,
      messagingServiceSid: cfg.TWILIO_MESSAGING_SERVICE_SID,
    });
  }
  // The raw values, so the operator sees what was set (neither is a secret).
  const provider = String(ctx.env.SMS_PROVIDER ?? '');
  logLine('error', 'SMS provider not configured', { provider, local_development: cfg.LOCAL_DEVELOPMENT });
  throw new ApiError('SMS_NOT_CONFIGURED');
}
