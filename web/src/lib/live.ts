// A machine's live feed (GET /api/machines/{id}/live): a WebSocket that reconnects with backoff and a
// fresh access token (browsers cannot set headers on a WebSocket, so the token goes in the query),
// and pings every 25 s so idle proxies keep it open.
import { accessToken } from './session';
import type { LiveEvent } from './types';

export type LiveState = 'connecting' | 'live' | 'offline';

export interface LiveHandlers {
  onEvent: (event: LiveEvent) => void;
  onState?: (state: LiveState) => void;
}

const PING_MS = 25_000;
const MAX_BACKOFF_MS = 15_000;

/** Watches one machine until the returned function is called or the machine is deleted. */
export function watchMachine(id: number, { onEvent, onState }: LiveHandlers): () => void {
  let socket: WebSocket | null = null;
  let stopped = false;
  let attempt = 0;
  let ping: ReturnType<typeof setInterval> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;

  async function connect() {
    onState?.('connecting');
    const token = await accessToken();
    if (stopped || !token) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/machines/${id}/live?access_token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.addEventListener('open', () => {
      attempt = 0;
      onState?.('live');
      ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('ping'), PING_MS);
    });
    ws.addEventListener('message', (e) => {
      if (typeof e.data !== 'string' || e.data === 'pong') return;
      const event = JSON.parse(e.data) as LiveEvent;
      if (event.type === 'deleted') stopped = true;
      onEvent(event);
    });
    ws.addEventListener('close', () => {
      clearInterval(ping);
      if (stopped) return;
      onState?.('offline');
      retry = setTimeout(connect, Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt++));
    });
  }

  void connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    clearInterval(ping);
    socket?.close(1000, 'done');
  };
}
