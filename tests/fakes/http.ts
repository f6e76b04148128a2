// Outbound HTTP to a provider's API base answered in-process by a fake (the worker, its Durable
// Objects and its queue consumer run in the test's isolate, so they all see the stub). Faults are
// injected per route: a 5xx, a refusal, or a timeout, either before the fake acts or after it
// (the provider did it, but its answer never arrives: the worst case for money).

export type Fault = '5xx' | 'timeout' | 'timeout-after' | '4xx';

export interface FaultRule {
  method: string;
  path: RegExp;
  fault: Fault;
  /** How many requests it hits (then it is gone); default 1. */
  times?: number;
}

export interface RecordedCall {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

export type Handler = (req: Request, url: URL, body: string) => Promise<Response> | Response;

/** A fake provider's HTTP face: routes by method and path, records calls, injects faults. */
export class FakeHttp {
  readonly calls: RecordedCall[] = [];
  private faults: FaultRule[] = [];
  /** How long a "timeout" hangs before it gives up (longer than the worker's provider timeout). */
  hangMs = 1500;

  constructor(
    readonly origin: string,
    private readonly handler: Handler,
  ) {}

  fail(rule: FaultRule): void {
    this.faults.push({ times: 1, ...rule });
  }

  clearFaults(): void {
    this.faults = [];
  }

  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const body = req.method === 'GET' ? '' : await req.text();
    this.calls.push({ method: req.method, path: url.pathname, headers: req.headers, body });
    const rule = this.faults.find((f) => f.method === req.method && f.path.test(url.pathname));
    if (rule) {
      rule.times! -= 1;
      if (rule.times! <= 0) this.faults.splice(this.faults.indexOf(rule), 1);
    }
    const hang = () => new Promise<Response>((resolve) => setTimeout(() => resolve(new Response('too late', { status: 504 })), this.hangMs));
    if (rule?.fault === '5xx') return new Response('<html>502 Bad Gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } });
    if (rule?.fault === 'timeout') return hang();
    const res = await this.handler(req, url, body);
    if (rule?.fault === 'timeout-after') return hang();
    return res;
  }
}

/** Routes fetch() for each fake's origin to it; everything else to the real fetch. Returns the restore. */
export function stubFetch(...fakes: FakeHttp[]): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const fake = fakes.find((f) => new URL(req.url).origin === f.origin);
    return fake ? fake.handle(req) : original(input, init);
  }) as typeof fetch;
  return () => {
    globalThis.fetch = original;
  };
}

export const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
