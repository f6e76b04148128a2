// The suite never leaves the machine: a fetch to anything but a loopback address fails at once, as
// an unreachable host does (a TypeError), without asking DNS. Work that outlives the test which
// stubbed its host (a Durable Object alarm retrying a controller, a webhook retry after the file's
// stub was restored) lands here instead of on the network. That matters beyond speed: workerd
// prints a failed DNS lookup as an "uncaught exception" even when the caller catches the rejection,
// and tests/runtime-guard.ts rightly fails the run on that line.
const loopback = (host: string) => host === 'localhost' || host === '[::1]' || host.startsWith('127.');

export function installOfflineFetch(): void {
  const real = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (loopback(url.hostname)) return real(input, init);
    return Promise.reject(new TypeError(`fetch failed: ${url.host} is not reachable from the test suite (tests/offline.ts)`));
  }) as typeof fetch;
}
