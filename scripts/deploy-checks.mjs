// What `npm run deploy` refuses to deploy, read from wrangler.toml's text (no Node imports, so the
// test suite checks these rules too: tests/phone.test.ts). Every table of the file counts, since
// [env.<name>.vars] is deployed as well; comments do not.

/** The part of a line before its comment (a `#` at the start or after a space). */
const code = (line) => line.replace(/(^|\s)#.*$/, '');

const RULES = [
  {
    test: /\bSMS_PROVIDER\s*=\s*["']console["']/,
    problem:
      'wrangler.toml sets SMS_PROVIDER = "console": the console provider answers every phone code to whoever asks. ' +
      'Set SMS_PROVIDER = "twilio" (docs/phone.md) or "webhook" and SMS_WEBHOOK_URL (or leave it empty: phone login then answers 503).',
  },
  {
    test: /\bLOCAL_DEVELOPMENT\s*=/,
    problem: 'wrangler.toml sets LOCAL_DEVELOPMENT: it is for .dev.vars only (it lets the console SMS provider answer codes).',
  },
];

/** One message per rule the configuration breaks; empty when it may be deployed. */
export function deployProblems(toml) {
  const lines = toml.split('\n').map(code);
  return RULES.filter((rule) => lines.some((line) => rule.test.test(line))).map((rule) => rule.problem);
}

/** Whether the configuration names a real SMS provider (without one, phone login answers 503). */
export function hasSmsProvider(toml) {
  return toml
    .split('\n')
    .map(code)
    .some((line) => /\bSMS_PROVIDER\s*=\s*["'](webhook|twilio)["']/.test(line));
}
