// standardwebhooks 1.3.0 ships its compiled JavaScript without the declaration file its package.json
// names (dist/index.d.ts): these are the declarations of its source (libraries/javascript/src/index.ts
// in standard-webhooks/standard-webhooks), for the parts this project uses.
declare module 'standardwebhooks' {
  export class WebhookVerificationError extends Error {}
  export interface WebhookRequiredHeaders {
    'webhook-id': string;
    'webhook-timestamp': string;
    'webhook-signature': string;
  }
  export class Webhook {
    static prefix: string;
    constructor(secret: string | Uint8Array, options?: { format?: 'raw' });
    verify(payload: string | Uint8Array, headers: WebhookRequiredHeaders | Record<string, string>, options?: { jsonParse?: boolean }): unknown;
    sign(msgId: string, timestamp: Date, payload: string | Uint8Array): string;
  }
}
