/**
 * GET /admin/overview: what the console's first page shows. Tenants and their operations,
 * the config version and the last refused reload (with its issues: an admin may see them),
 * whether the store answers a ping and each LDAP server accepts a connection (both bounded
 * to a second), and the call counters of the admin's tenant by operation, outcome and code,
 * read from our own Prometheus metrics (summed over workers under --workers). The counters
 * are totals since start; the console keeps samples to show the last minutes.
 */
import { connect } from 'node:net';
import type { ConfigHolder } from '../config/holder.js';
import type { MetricsSource } from '../http/metrics-route.js';
import { reloadStatus } from '../http/readyz.js';
import type { AdminRoute } from './routes.js';

const PROBE_MS = 1000;

function within<T>(pending: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

/** Whether a TCP connection to the LDAP URL's host and port opens (no bind, no search). */
function reachable(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      resolve(false);
      return;
    }
    const port = Number(parsed.port || (parsed.protocol === 'ldaps:' ? 636 : 389));
    const socket = connect({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const CALL_LINE = /^authpipe_calls_total\{tenant="([^"]*)",operation="([^"]*)",outcome="([^"]*)",code="([^"]*)",door="([^"]*)"\} (\S+)$/;

/** The tenant's call counters from Prometheus text. */
function callCounters(text: string, tenant: string): { door: string; operation: string; outcome: string; code: string; count: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    const m = CALL_LINE.exec(line);
    if (m && m[1] === tenant)
      out.push({ door: m[5] as string, operation: m[2] as string, outcome: m[3] as string, code: m[4] as string, count: Number(m[6]) });
  }
  return out;
}

export function overviewRoutes(holder: ConfigHolder, metrics: MetricsSource | undefined): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/overview',
      async handle(call) {
        const config = holder.current;
        const store = within(
          config.services.store.ping().then(
            () => 'up',
            () => 'down',
          ),
          PROBE_MS,
          'down',
        );
        const operator = call.subject.role === 'operator';
        // The installation's servers and reload issues (which may name any tenant's files) are the operator's to see.
        const ldap = Promise.all(
          (operator ? (config.main.ldap ?? []) : []).map(async (c) => ({ id: c.id, url: c.url, reachable: await reachable(c.url) })),
        );
        const text = metrics ? await metrics.metrics().catch(() => null) : null;
        call.send(200, {
          tenant: call.subject.tenant,
          admin: call.subject.sub,
          role: call.subject.role,
          tenants: config.listeners.flatMap((l) =>
            [...l.tenants.values()]
              .filter((t) => operator || t.id === call.subject.tenant)
              .map((t) => ({ id: t.id, displayName: t.displayName, operations: [...t.allowedOperations] })),
          ),
          ...reloadStatus(holder, operator),
          store: await store,
          ldap: await ldap,
          time: new Date().toISOString(),
          calls: text === null ? null : callCounters(text, call.subject.tenant),
        });
      },
    },
  ];
}
