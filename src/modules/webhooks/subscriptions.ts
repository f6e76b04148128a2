// Who receives an event (contract section 8): an enabled endpoint subscribed to its type (or to `*`),
// owned by the user the event is about, or by a staff user (staff endpoints see every event, and
// alone receive the events about no one user, e.g. orders). A ping goes only where it was asked for.
import type { WebhookEventRow } from '../../db/schema';

export function subscribes(ep: { ownerId: number; events: string; ownerIsStaff: boolean }, event: Pick<WebhookEventRow, 'type' | 'userId'>): boolean {
  if (event.type === 'ping') return false;
  const types = JSON.parse(ep.events) as string[];
  if (!types.includes('*') && !types.includes(event.type)) return false;
  return ep.ownerIsStaff || (event.userId !== null && event.userId === ep.ownerId);
}
