/**
 * The audit events the console's Audit page shows, kept in the store: shared by every worker
 * and every engine on the store, and on Redis kept across restarts. The audit stream itself
 * is still written first, line by line; the store gets the events of a second as one
 * batch (one write, whatever the load: audit calls sit on the hot path), bounded by count
 * (`audit.keep.events`) and age (`audit.keep.days`). A store that fails loses the page's copy
 * of a batch, never a call: the stream has every line.
 */
import type { Logger } from 'pino';
import type { Audit, AuditEventType, AuditFields } from '../engine/audit.js';
import type { AuditLog } from '../observe/audit-log.js';
import type { Store } from '../store/store.js';
import { queryOf, type AdminRoute } from './routes.js';

/**
 * Calls (auth.*, token.*) come at the rate of the traffic, everything else (admin changes,
 * lockouts, reloads) rarely: each has its list, so a busy hour of logins cannot push the
 * admin changes out, and the calls' list is bounded in events, not only in batches.
 */
const CALLS_KEY = 'audit:calls';
const OTHERS_KEY = 'audit:events';
const isCall = (type: AuditEventType) => type.startsWith('auth.') || type.startsWith('token.');
// A second: a batch write lands in few of the calls it could slow, and the page is a second behind at most.
const FLUSH_MS = 1000;
const MAX_BATCH = 100;
const DAY_MS = 86_400_000;
/** Rows one page answers at most. */
const MAX_LIMIT = 1000;

interface Entry {
  at: number;
  type: AuditEventType;
  fields: AuditFields;
}

export interface AuditKeep {
  events: number;
  days: number;
}

/**
 * Calls are kept as the audit stream's own lines (a batch is a JSON array of them): the line
 * is built once for both, where serialising each call's entry a second time cost as much as
 * building its line. Other events keep their whole fields (an admin change's diff is longer
 * than a stream line keeps of a value).
 */
export class StoredAudit implements Audit {
  private pending: { calls: string[]; others: Entry[] } = { calls: [], others: [] };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly inner: AuditLog,
    private readonly store: Store,
    private readonly keep: AuditKeep,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  event(type: AuditEventType, fields: AuditFields): void {
    if (isCall(type)) {
      const line = this.inner.line(type, fields);
      if (line === undefined) return;
      this.inner.write(line);
      const calls = this.pending.calls;
      calls.push(line);
      if (calls.length >= MAX_BATCH) void this.flush();
      return;
    }
    this.inner.event(type, fields);
    const others = this.pending.others;
    others.push({ at: Date.now(), type, fields });
    if (others.length >= MAX_BATCH) void this.flush();
  }

  async flush(): Promise<void> {
    const { calls, others } = this.pending;
    this.pending = { calls: [], others: [] };
    // Full batches of calls: at most keep.events of them stay; other events are few, a batch each.
    // Each line ends in a newline, which JSON allows between array members.
    if (calls.length > 0)
      await this.push(CALLS_KEY, `[${calls.join(',')}]`, calls.length, Math.max(1, Math.ceil(this.keep.events / MAX_BATCH)));
    if (others.length > 0) await this.push(OTHERS_KEY, JSON.stringify(others), others.length, this.keep.events);
  }

  private async push(key: string, batch: string, events: number, batches: number): Promise<void> {
    try {
      await this.store.listPush(key, batch, batches);
    } catch (err) {
      this.logger.warn({ err, events }, 'audit events not kept in the store (the audit stream has them)');
    }
  }

  /** Newest first, within the age and count kept. */
  async recent(): Promise<Entry[]> {
    await this.flush();
    const since = Date.now() - this.keep.days * DAY_MS;
    const out: Entry[] = [];
    for (const key of [CALLS_KEY, OTHERS_KEY]) {
      for (const text of await this.store.listRange(key, this.keep.events)) {
        try {
          for (const kept of JSON.parse(text) as (Entry | StreamLine)[]) {
            // Calls are stream lines; other events (and calls kept before lines were) are entries.
            const entry = (kept as Entry).fields !== undefined ? (kept as Entry) : fromLine(kept as StreamLine);
            if (entry.at >= since) out.push(entry);
          }
        } catch {
          // a batch that does not parse is skipped, not fatal to the page
        }
      }
    }
    out.sort((a, b) => a.at - b.at);
    return out.reverse().slice(0, this.keep.events);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** A call as the audit stream wrote it (observe/audit-log.ts). */
interface StreamLine extends AuditFields {
  time: number;
  event: AuditEventType;
}

function fromLine(line: StreamLine): Entry {
  const { time, event, level: _level, service: _service, log: _log, ...fields } = line;
  return { at: time, type: event, fields };
}

export function auditRoutes(recent: StoredAudit | undefined): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/audit',
      async handle(call) {
        const q = queryOf(call, ['tenant', 'subject', 'event', 'door', 'since', 'until', 'limit', 'format']);
        const limit = Math.min(Math.max(Number(q.limit ?? 200) || 200, 1), MAX_LIMIT);
        const since = q.since === undefined ? -Infinity : Date.parse(q.since);
        const until = q.until === undefined ? Infinity : Date.parse(q.until);
        const events = [];
        for (const { at, type, fields } of (await recent?.recent()) ?? []) {
          // Only the admin's own tenant, and events that belong to no tenant (reloads).
          if (fields.tenant !== undefined && fields.tenant !== call.subject.tenant) continue;
          if (q.tenant !== undefined && (fields.tenant ?? '') !== q.tenant) continue;
          if (q.event && !type.startsWith(q.event)) continue;
          if (q.door && fields.door !== q.door) continue;
          if (!(at >= since && at <= until)) continue;
          if (
            q.subject &&
            !String(fields.subject ?? '')
              .toLowerCase()
              .includes(q.subject.toLowerCase())
          )
            continue;
          events.push({ time: new Date(at).toISOString(), event: type, ...fields });
          if (events.length >= limit) break;
        }
        if (q.format === 'jsonl') {
          call.res.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
          call.res.setHeader('cache-control', 'no-store');
          call.res.end(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
          return;
        }
        call.send(200, { events });
      },
    },
  ];
}
