// A local Twilio Messages API: checks what Twilio checks (the path's account SID, HTTP Basic auth
// with the SID and auth token, a form-encoded body with To, Body and exactly one of From or
// MessagingServiceSid) and answers with Twilio's documented bodies: 201 with the Message resource
// (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource), or the
// error body `{ code, message, more_info, status }` (https://www.twilio.com/docs/usage/twilios-response).
// A plain Request → Response handler, served over HTTP on 127.0.0.1 by tests/fakes/twilio-server.ts
// (the suites' global setup).

export const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
export const TWILIO_TOKEN = 'twilio-auth-token-0123456789abcdef';

export interface TwilioMessage {
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
}

function twilioError(status: number, code: number, message: string): Response {
  return Response.json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, { status });
}

/** The fake; `sent` collects accepted messages, `failFor` makes it answer a number with a Twilio error instead. */
export function fakeTwilio() {
  const sent: TwilioMessage[] = [];
  const state = { failFor: new Map<string, { status: number; code: number; message: string }>() };
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) return twilioError(404, 20404, 'The requested resource was not found');
    const expected = `Basic ${btoa(`${TWILIO_SID}:${TWILIO_TOKEN}`)}`;
    if (req.headers.get('authorization') !== expected || match[1] !== TWILIO_SID) return twilioError(401, 20003, 'Authenticate');
    if (!req.headers.get('content-type')?.startsWith('application/x-www-form-urlencoded')) {
      return twilioError(400, 21609, 'Invalid content type');
    }
    const form = new URLSearchParams(new TextDecoder().decode(await req.arrayBuffer()));
    const to = form.get('To');
    const from = form.get('From');
    const service = form.get('MessagingServiceSid');
    const body = form.get('Body');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!from && !service) return twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.");
    if (!body) return twilioError(400, 21602, 'Message body is required.');
    const failure = state.failFor.get(to);
    if (failure) return twilioError(failure.status, failure.code, failure.message.replace('{to}', to));
    sent.push({ to, from, messagingServiceSid: service, body });
    const now = new Date().toUTCString();
    return Response.json(
      {
        account_sid: TWILIO_SID,
        api_version: '2010-04-01',
        body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from,
        messaging_service_sid: service,
        num_media: '0',
        num_segments: '1',
        price: null,
        price_unit: 'USD',
        sid: `SM${crypto.randomUUID().replace(/-/g, '')}`,
        status: 'queued',
        subresource_uris: {},
        to,
        uri: `/2010-04-01/Accounts/${TWILIO_SID}/Messages/SM.json`,
      },
      { status: 201 },
    );
  };
  return { sent, state, handler };
}
