/**
 * The recent audit events of this process, kept in a ring for the console's Audit page
 * (the audit stream itself is the record; this is a window on it). Events are kept by
 * reference, not copied: audit calls sit on the hot path. Under `--workers` each worker
 * keeps its own window, so the page shows the events of the worker that answered it.
 */
import type { Audit, AuditEventType, AuditFields } from '../engine/audit.js';
import { queryOf, type AdminRoute } from './routes.js';

const KEEP = 1000;

export class RecentAudit implements Audit {
  private readonly ring: { at: number; type: AuditEventType; fields: AuditFields }[] = [];
  private next = 0;

  constructor(private readonly inner: Audit) {}

  event(type: AuditEventType, fields: AuditFields): void {
    this.inner.event(type, fields);
    const entry = { at: Date.now(), type, fields };
    if (this.ring.length < KEEP) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % KEEP;
  }

  /** Newest first. */
  recent(): { at: number; type: AuditEventType; fields: AuditFields }[] {
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)].reverse();
  }
}

export function auditRoutes(recent: RecentAudit | undefined): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/audit',
      async handle(call) {
        const q = queryOf(call, ['tenant', 'subject', 'event', 'limit']);
        const limit = Math.min(Math.max(Number(q.limit ?? 200) || 200, 1), KEEP);
        const events = [];
        for (const { at, type, fields } of recent?.recent() ?? []) {
          // Only the admin's own tenant, and events that belong to no tenant (reloads).
          if (fields.tenant !== undefined && fields.tenant !== call.subject.tenant) continue;
          if (q.tenant !== undefined && (fields.tenant ?? '') !== q.tenant) continue;
          if (q.event && !type.startsWith(q.event)) continue;
          if (q.subject && !(fields.subject ?? '').toLowerCase().includes(q.subject.toLowerCase())) continue;
          events.push({ time: new Date(at).toISOString(), event: type, ...fields });
          if (events.length >= limit) break;
        }
        call.send(200, { events });
      },
    },
  ];
}
