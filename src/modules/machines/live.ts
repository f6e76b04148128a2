// GET /api/machines/{id}/live inside the machine's Durable Object: the sockets (WebSocket
// hibernation API), each carrying whose right opened it and until when, the fan-out of every change
// to the sockets that may still see it, the re-check of those rights, and each socket's frame budget.
import type { Store } from '../../db/store';
import { addWatcher, watcherRights } from './repository';
import type { State } from './state';
import type { LiveEvent } from '../../contract';

/** The sockets one user may keep open on one machine (each costs the machine's object work per event). */
export const LIVE_SOCKETS_PER_USER = 8;
/** Frames a client may send on one socket per window; past them the socket is closed (4429). */
export const LIVE_FRAMES_PER_WINDOW = 20;
export const LIVE_FRAME_WINDOW_MS = 10_000;

/** What a /live socket carries (it survives hibernation): whose right opened it, and until when. */
export interface Watcher {
  userId: number;
  sessionId: string;
  /** The access token's `exp` (seconds). */
  tokenExp: number;
}

/** The watcher the route forwards with the upgrade (after authentication and the permission check). */
export function watcherOf(request: Request): Watcher {
  return {
    userId: Number(request.headers.get('x-user-id')),
    sessionId: request.headers.get('x-session-id') ?? '',
    tokenExp: Number(request.headers.get('x-token-exp')),
  };
}

/** The first frame of a socket, and the answer to a `status` frame. */
export function statusEvent(st: State): LiveEvent {
  return {
    type: 'status',
    machine_id: st.machineId,
    status: st.status,
    previous: null,
    pending_operations: st.ops.map((o) => ({ id: o.id, command: o.command })),
    at: new Date().toISOString(),
  };
}

export class LiveSockets {
  /** Each socket's frames in its current window (see frameAllowed). */
  private readonly frames = new WeakMap<WebSocket, { start: number; count: number }>();

  constructor(private readonly ctx: DurableObjectState) {}

  /**
   * Opens a socket for `watcher` on the loaded machine `st`, or answers why not: 409, the user's
   * socket limit; 401/403, the right ended since the route checked it.
   */
  async admit(s: Store, st: State, watcher: Watcher): Promise<Response> {
    const machineId = st.machineId;
    // Bounds the work of one user on this machine: every event re-checks every socket's right.
    if (this.watchers().filter(([, w]) => w.userId === watcher.userId).length >= LIVE_SOCKETS_PER_USER) {
      return new Response(null, { status: 409 });
    }
    // The session is recorded as watching this machine before its right is checked once more: a
    // revocation committed before this check is seen here; one committed after it finds the record
    // and has this object re-check the socket (closeRevoked), which then is open. Either way it
    // closes at once, never only on the next event.
    await addWatcher(s, { sessionId: watcher.sessionId, machineId, userId: watcher.userId, expiresAt: watcher.tokenExp * 1000 });
    const right = (await watcherRights(s, machineId, [watcher.sessionId], Date.now())).get(watcher.sessionId);
    if (right !== true) return new Response(null, { status: right === undefined ? 401 : 403 });
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment(watcher);
    server.send(JSON.stringify(statusEvent(st)));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Counts a frame against its socket's fixed window (kept in memory: a new instance starts afresh). */
  frameAllowed(ws: WebSocket): boolean {
    const now = Date.now();
    const w = this.frames.get(ws);
    if (!w || now - w.start >= LIVE_FRAME_WINDOW_MS) {
      this.frames.set(ws, { start: now, count: 1 });
      return true;
    }
    return ++w.count <= LIVE_FRAMES_PER_WINDOW;
  }

  /** When the open sockets' access tokens expire (the alarm closes them then). */
  expiries(): number[] {
    return this.watchers().map(([, w]) => w.tokenExp * 1000);
  }

  /** The open sockets with what they carry (one opened before sockets carried it has nothing). */
  private watchers(): [WebSocket, Watcher][] {
    return this.ctx
      .getWebSockets()
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .map((ws) => [ws, (ws.deserializeAttachment() as Watcher | null) ?? { userId: 0, sessionId: '', tokenExp: 0 }]);
  }

  /** Closes the sockets whose access token has expired; answers the others. */
  closeExpired(): [WebSocket, Watcher][] {
    const now = Date.now();
    return this.watchers().filter(([ws, w]) => {
      if (w.tokenExp * 1000 > now) return true;
      close(ws, 4401, 'token expired');
      return false;
    });
  }

  /**
   * The sockets that may still see this machine; the others are closed: 4401 when their token
   * expired, their session ended or their user was deactivated, 4403 when their user may no longer
   * watch it (a transfer, or staff rights withdrawn). One query per 90 sockets, only when a socket
   * is open; `only` limits the check to the sockets it accepts.
   */
  async permitted(s: Store, machineId: number, only?: (ws: WebSocket, w: Watcher) => boolean): Promise<WebSocket[]> {
    const open = this.closeExpired().filter(([ws, w]) => !only || only(ws, w));
    if (open.length === 0) return [];
    const rights = await watcherRights(s, machineId, [...new Set(open.map(([, w]) => w.sessionId))], Date.now());
    return open
      .filter(([ws, w]) => {
        const right = rights.get(w.sessionId);
        if (right) return true;
        close(ws, right === undefined ? 4401 : 4403, right === undefined ? 'session ended' : 'permission lost');
        return false;
      })
      .map(([ws]) => ws);
  }

  async broadcast(s: Store, machineId: number, events: LiveEvent[]): Promise<void> {
    const sockets = await this.permitted(s, machineId);
    const texts = events.map((e) => JSON.stringify(e));
    for (const ws of sockets) for (const text of texts) send(ws, text);
  }

  /** The machine is gone: every socket learns it and is closed. */
  closeAll(machineId: number): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(JSON.stringify({ type: 'deleted', machine_id: machineId }));
        ws.close(1000, 'machine deleted');
      } catch {
        // already closing
      }
    }
  }
}

/** Sends unless the socket is already closing (the runtime then drops it). */
export function send(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // closing or closed
  }
}

export function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
