/**
 * LDAP connections over ldapts (the only file that imports it). One connection per config
 * entry, opened lazily (so `validate` never touches the network) and reused:
 * - searches share one client bound as the service account (or anonymous); LDAP multiplexes
 *   operations on a connection, so concurrent calls do not queue behind each other;
 * - password checks bind as the user, which changes a connection's identity, so they run on
 *   a small separate pool, one check per connection at a time.
 * Every operation is bounded by `timeoutMs`, connecting included; a dead or silent server is
 * a COMMUNICATION_ERROR fault in bounded time, never a hang. A dropped connection is
 * replaced on next use.
 */
import type { ConnectionOptions } from 'node:tls';
import { Client, FilterParser, ResultCodeError, type Entry } from 'ldapts';
import { AuthpipeError, fault } from '../errors.js';

export interface LdapConnectionOptions {
  id: string;
  url: string;
  bindDn?: string;
  bindPassword?: string;
  startTls: boolean;
  tlsOptions: ConnectionOptions | undefined;
  connectTimeoutMs: number;
  timeoutMs: number;
  maxBindConnections: number;
}

interface LdapSearch {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: string;
  attributes: readonly string[];
  sizeLimit: number;
}

/** An entry: its DN, and its string values by lower-case attribute name. */
export interface LdapEntry {
  dn: string;
  values: ReadonlyMap<string, readonly string[]>;
}

interface LdapConnection {
  readonly id: string;
  search(request: LdapSearch): Promise<LdapEntry[]>;
  /** True when `password` binds as `dn`; false on invalid credentials (result code 49). */
  verifyPassword(dn: string, password: string): Promise<boolean>;
  /** Waits for operations in flight, then unbinds every connection. */
  close(): Promise<void>;
}

export interface LdapConnections {
  get(id: string): LdapConnection | undefined;
  ids(): string[];
  close(): Promise<void>;
}

const INVALID_CREDENTIALS = 49;

/** Why a filter does not parse, or null when it does (a load-time check). */
export function filterSyntaxError(filter: string): string | null {
  try {
    FilterParser.parseString(filter);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function createLdapConnections(options: readonly LdapConnectionOptions[]): LdapConnections {
  const byId = new Map(options.map((o) => [o.id, new PooledLdapConnection(o)] as const));
  return {
    get: (id) => byId.get(id),
    ids: () => [...byId.keys()],
    async close() {
      await Promise.all([...byId.values()].map((c) => c.close()));
    },
  };
}

interface Waiter {
  resolve(client: Client): void;
  reject(err: Error): void;
  cancelled: boolean;
}

class PooledLdapConnection implements LdapConnection {
  readonly id: string;
  private service: Client | null = null;
  private opening: Promise<Client> | null = null;
  private readonly idle: Client[] = [];
  private bindClients = 0;
  private readonly waiters: Waiter[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: LdapConnectionOptions) {
    this.id = options.id;
  }

  search(request: LdapSearch): Promise<LdapEntry[]> {
    return this.bounded('search', async (signal) => {
      // One retry on a fresh connection: a reused one may have been dropped by the server.
      for (let attempt = 0; ; attempt++) {
        const { client, fresh } = await this.serviceClient();
        try {
          const result = await client.search(request.base, {
            scope: request.scope,
            filter: request.filter,
            attributes: request.attributes.length > 0 ? [...request.attributes] : ['1.1'],
            sizeLimit: request.sizeLimit,
            timeLimit: Math.ceil(this.options.timeoutMs / 1000),
          });
          return result.searchEntries.map(toEntry);
        } catch (err) {
          if (err instanceof ResultCodeError) throw err;
          this.dropService(client);
          if (fresh || attempt > 0 || signal.aborted) throw err;
        }
      }
    });
  }

  verifyPassword(dn: string, password: string): Promise<boolean> {
    // An empty password is an unauthenticated bind (RFC 4513 5.1.2): servers answer success.
    if (password === '') return Promise.resolve(false);
    return this.bounded('password check', async (signal) => {
      const client = await this.checkoutBindClient(signal);
      let healthy = true;
      try {
        await client.bind(dn, password);
        return true;
      } catch (err) {
        if (err instanceof ResultCodeError && err.code === INVALID_CREDENTIALS) return false;
        healthy = err instanceof ResultCodeError;
        throw err;
      } finally {
        this.checkinBindClient(client, healthy);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('connection closed'));
    await Promise.allSettled([...this.inFlight]);
    const clients = [...this.idle.splice(0), ...(this.service ? [this.service] : [])];
    this.service = null;
    await Promise.allSettled(clients.map((c) => c.unbind()));
  }

  /** Runs `work` under the deadline; any failure becomes a COMMUNICATION_ERROR fault. */
  private bounded<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.fault(what, 'the connection is closed'));
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(this.fault(what, `no answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
    });
    const running = work(controller.signal);
    const tracked = running.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(tracked);
    void tracked.then(() => this.inFlight.delete(tracked));
    return Promise.race([running, deadline])
      .catch((err: unknown) => {
        throw err instanceof AuthpipeError ? err : this.fault(what, describe(err), err);
      })
      .finally(() => clearTimeout(timer));
  }

  private fault(what: string, detail: string, cause?: unknown): AuthpipeError {
    return fault('COMMUNICATION_ERROR', { detail: `LDAP ${this.id} (${this.options.url}): ${what}: ${detail}`, cause });
  }

  private async serviceClient(): Promise<{ client: Client; fresh: boolean }> {
    if (this.service?.isConnected) return { client: this.service, fresh: false };
    this.opening ??= this.openServiceClient().finally(() => {
      this.opening = null;
    });
    return { client: await this.opening, fresh: true };
  }

  private async openServiceClient(): Promise<Client> {
    if (this.service) this.dropService(this.service);
    const client = this.newClient();
    try {
      if (this.options.startTls) await client.startTLS(this.options.tlsOptions ?? {});
      // Anonymous when no service account is configured: an empty simple bind.
      await client.bind(this.options.bindDn ?? '', this.options.bindPassword ?? '');
    } catch (err) {
      void client.unbind().catch(() => undefined);
      if (err instanceof ResultCodeError)
        throw new Error(`service bind as "${this.options.bindDn ?? '(anonymous)'}" refused: ${err.message}`, { cause: err });
      throw err;
    }
    if (this.closed) {
      void client.unbind().catch(() => undefined);
      throw new Error('the connection is closed');
    }
    this.service = client;
    return client;
  }

  private dropService(client: Client): void {
    if (this.service === client) this.service = null;
    void client.unbind().catch(() => undefined);
  }

  private async checkoutBindClient(signal: AbortSignal): Promise<Client> {
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.bindClients < this.options.maxBindConnections) {
      this.bindClients++;
      try {
        const client = this.newClient();
        if (this.options.startTls) await client.startTLS(this.options.tlsOptions ?? {});
        return client;
      } catch (err) {
        this.bindClients--;
        throw err;
      }
    }
    return new Promise<Client>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, cancelled: false };
      this.waiters.push(waiter);
      // Settle on the deadline too, so close() never waits for a waiter that gave up.
      signal.addEventListener('abort', () => {
        waiter.cancelled = true;
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error('no connection became free in time'));
      });
    });
  }

  private checkinBindClient(client: Client, healthy: boolean): void {
    // A StartTLS connection that dropped cannot silently reconnect in clear: discard it.
    const reusable = healthy && !this.closed && (client.isConnected || !this.options.startTls);
    if (!reusable) {
      this.bindClients--;
      void client.unbind().catch(() => undefined);
      if (!this.closed) this.wakeWaiterWithNewClient();
      return;
    }
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
      if (waiter.cancelled) continue;
      waiter.resolve(client);
      return;
    }
    this.idle.push(client);
  }

  private wakeWaiterWithNewClient(): void {
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
      if (waiter.cancelled) continue;
      this.bindClients++;
      const client = this.newClient();
      if (!this.options.startTls) return waiter.resolve(client);
      const w = waiter;
      client.startTLS(this.options.tlsOptions ?? {}).then(
        () => w.resolve(client),
        (err: Error) => {
          this.bindClients--;
          void client.unbind().catch(() => undefined);
          w.reject(err);
        },
      );
      return;
    }
  }

  private newClient(): Client {
    const secure = this.options.url.startsWith('ldaps:');
    return new Client({
      url: this.options.url,
      connectTimeout: this.options.connectTimeoutMs,
      timeout: this.options.timeoutMs,
      // ldapts goes TLS from the first byte whenever tlsOptions is set: only for ldaps://.
      ...(secure && this.options.tlsOptions ? { tlsOptions: this.options.tlsOptions } : {}),
    });
  }
}

function toEntry(entry: Entry): LdapEntry {
  const values = new Map<string, string[]>();
  for (const [name, raw] of Object.entries(entry)) {
    if (name === 'dn') continue;
    // Binary values (Buffers) are never turned into properties: they are not text.
    const list = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
    if (list.length > 0) values.set(name.toLowerCase(), list);
  }
  return { dn: entry.dn, values };
}

function describe(err: unknown): string {
  if (err instanceof Error)
    return (err as NodeJS.ErrnoException).code ? `${(err as NodeJS.ErrnoException).code} ${err.message}` : err.message;
  return String(err);
}
