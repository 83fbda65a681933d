/**
 * Tills, API clients and users of the admin's own tenant, in the directory file: list and
 * search, create, change (status to disable or enable; store, access group, scopes,
 * redirect URIs, contact data), set a till's or a user's password or a client's secret
 * (hashed here with the default scrypt profile: the plain text is never stored or logged),
 * rotate a client's secret (made here, shown once), unlock an account, and list the locked
 * ones. Hashes and TOTP secrets are never sent back. The file is rewritten in the
 * layout it ships in (one record per line), after the whole config loaded with the change.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { AdminError } from './admin-error.js';
import { credentialTextProblem, normalizeCredential } from '../credentials/credential-text.js';
import { hashPassword } from '../credentials/hash.js';
import { DEFAULT_LOCKOUT, Lockout } from '../credentials/lockout.js';
import type { LoadedConfig } from '../config/load.js';
import { prefixedStore, tenantPrefix, type Store } from '../store/store.js';
import { checkedBody } from './bodies.js';
import { isOperatorAccount, operatorHome } from './auth.js';
import { applyChange, checkIfMatch, Disk, etagOf, type ChangeOptions } from './config-change.js';
import { formatJson } from './format-json.js';
import { KINDS, schemasOf, shownRecord, type Kind, type Record_ } from './directory-kinds.js';
import { queryOf, type AdminCall, type AdminRoute } from './routes.js';
import { linksOf, unlink } from '../oidc/federated-accounts.js';
import { accountSessions, endAccountSession } from '../oidc/account-sessions.js';
import { storeAdapter } from '../oidc/adapter.js';
import { TTL } from '../oidc/provider.js';

/** A password or secret set through the API: at least this long, at most what basic-auth reads by default. */
const MIN_SECRET_CHARS = 8;
const MAX_SECRET_BYTES = 256;
/** A list answers at most this many records; search narrows it. */
const MAX_LISTED = 500;

/** The checked, NFC-normalised password or secret, hashed; a 400 naming the member otherwise. */
async function hashedSecret(value: string, member: string): Promise<string> {
  const problem = credentialTextProblem(value, MAX_SECRET_BYTES);
  if (problem === 'empty') throw new AdminError('BAD_BODY', `${member} is empty`, [`/${member}`]);
  if (problem === 'too_long') throw new AdminError('BAD_BODY', `${member} is over ${MAX_SECRET_BYTES} bytes`, [`/${member}`]);
  if (problem === 'control_character') throw new AdminError('BAD_BODY', `${member} contains a control character`, [`/${member}`]);
  const normalized = normalizeCredential(value);
  if ([...normalized].length < MIN_SECRET_CHARS)
    throw new AdminError('BAD_BODY', `${member} is shorter than ${MIN_SECRET_CHARS} characters`, [`/${member}`]);
  return hashPassword(normalized);
}

function directoryPath(config: LoadedConfig): string {
  if (!config.main.directory)
    throw new AdminError('NOT_CONFIGURED', 'the main config file names no directory file; add "directory": "directory.json" to it');
  return resolve(config.dir, config.main.directory);
}

interface DirectoryDoc {
  tenants: Record<string, Record<string, Record_[] | undefined>>;
}

const lockout = new Lockout(DEFAULT_LOCKOUT);

/** The directory file's records as the routes read and change them, in the admin's tenant. */
class DirectoryRecords {
  constructor(private readonly options: ChangeOptions) {}

  private get path(): string {
    return directoryPath(this.options.holder.current);
  }

  private store(tenant: string): Store {
    return prefixedStore(this.options.holder.current.services.store, tenantPrefix(tenant));
  }

  async doc(disk: Disk): Promise<DirectoryDoc> {
    return (await disk.json(this.path)) as DirectoryDoc;
  }

  async list(disk: Disk, tenant: string, kind: Kind): Promise<{ doc: DirectoryDoc; list: Record_[] }> {
    const doc = await this.doc(disk);
    return { doc, list: doc.tenants?.[tenant]?.[kind.name] ?? [] };
  }

  async find(disk: Disk, tenant: string, kind: Kind, id: string) {
    const { doc, list } = await this.list(disk, tenant, kind);
    const index = list.findIndex((r) => r[kind.key] === id);
    if (index < 0) throw new AdminError('NOT_FOUND', `no ${kind.name.slice(0, -1)} "${id}" in tenant "${tenant}"`);
    return { doc, record: list[index] as Record_ };
  }

  /** The account's lockout name, as basic-auth counts it (`till:<username>`, `client:<client_id>`, `user:<username>`); null when the record has no such member. */
  private account(lock: NonNullable<Kind['lockout']>, record: Record_): string | null {
    const name = record[lock.member];
    return typeof name === 'string' ? `${lock.prefix}:${name}` : null;
  }

  /** Seconds the account stays locked (rounded up), or null when it is not locked. */
  async lockedForSeconds(tenant: string, lock: NonNullable<Kind['lockout']>, record: Record_): Promise<number | null> {
    const account = this.account(lock, record);
    const ms = account === null ? null : await lockout.lockedForMs(this.store(tenant), account);
    return ms === null ? null : Math.ceil(ms / 1000);
  }

  /** The tenant's store, where the OpenID door keeps its sessions. */
  tenantStore(tenant: string): Store {
    return this.store(tenant);
  }

  async unlock(tenant: string, lock: NonNullable<Kind['lockout']>, record: Record_): Promise<void> {
    const account = this.account(lock, record);
    if (account !== null) await lockout.unlock(this.store(tenant), account);
  }

  /** A record as the API shows it: without hashes or secrets (shownRecord), with its lock state. */
  async view(kind: Kind, tenant: string, record: Record_): Promise<Record_> {
    const shown = shownRecord(kind, record);
    if (kind.lockout) {
      const seconds = await this.lockedForSeconds(tenant, kind.lockout, record);
      shown.locked = seconds !== null;
      if (seconds !== null) shown.lockedForSeconds = seconds;
    }
    return shown;
  }

  async show(call: AdminCall, kind: Kind, id: string, status = 200, extra: Record<string, string> = {}, once?: Record_): Promise<void> {
    const { record } = await this.find(new Disk(), call.subject.tenant, kind, id);
    call.send(status, { ...(await this.view(kind, call.subject.tenant, record)), ...once }, { etag: etagOf(record), ...extra });
  }

  /** An operator's account is changed (or unlocked) by an operator only: a tenant admin of its home tenant could take it over. */
  checkNotOperator(call: AdminCall, kind: Kind, id: string): void {
    const { subject } = call;
    if (subject.role === 'operator') return;
    const config = this.options.holder.current;
    if (isOperatorAccount(config, subject.tenant, kind.subject, id))
      throw new AdminError('OPERATOR_ONLY', `${kind.subject} "${id}" is an operator's account; only an operator may change it`);
    // Operators sign in to the console through its client: whoever sets its redirect URIs receives their codes.
    if (kind.name === 'clients' && id === config.main.management.console_client && operatorHome(config, subject.tenant))
      throw new AdminError(
        'OPERATOR_ONLY',
        `client "${id}" is the console's, which operators sign in with; only an operator may change it`,
      );
  }

  /** Writes the document `edit` returns back to the directory file, audited as `action` on the record. */
  write(call: AdminCall, kind: Kind, id: string, action: string, edit: (disk: Disk) => Promise<DirectoryDoc>) {
    this.checkNotOperator(call, kind, id);
    return applyChange(this.options, call.subject, async (disk) => ({
      files: new Map([[this.path, formatJson(await edit(disk))]]),
      audit: { resource: kind.name.slice(0, -1), action, id },
    }));
  }

  /** Changes one record under If-Match, then answers it (with `once`: members this answer alone carries). */
  async change(call: AdminCall, kind: Kind, action: string, apply: (record: Record_) => void, once?: Record_): Promise<void> {
    const id = call.params.id as string;
    await this.write(call, kind, id, action, async (disk) => {
      const { doc, record } = await this.find(disk, call.subject.tenant, kind, id);
      checkIfMatch(call.req.headersDistinct['if-match'], etagOf(record));
      apply(record);
      return doc;
    });
    await this.show(call, kind, id, 200, {}, once);
  }
}

export function directoryRoutes(options: ChangeOptions): AdminRoute[] {
  const records = new DirectoryRecords(options);
  return [
    {
      method: 'GET',
      path: '/admin/directory/stores',
      async handle(call) {
        const doc = await records.doc(new Disk());
        call.send(200, { stores: doc.tenants?.[call.subject.tenant]?.stores ?? [] });
      },
    },
    {
      method: 'GET',
      path: '/admin/locked',
      async handle(call) {
        const { tenant } = call.subject;
        const disk = new Disk();
        const accounts = [];
        for (const kind of KINDS) {
          const lock = kind.lockout;
          if (!lock) continue;
          for (const record of (await records.list(disk, tenant, kind)).list.slice(0, MAX_LISTED)) {
            const lockedForSeconds = await records.lockedForSeconds(tenant, lock, record);
            if (lockedForSeconds !== null) accounts.push({ kind: lock.prefix, id: String(record[kind.key]), lockedForSeconds });
          }
        }
        call.send(200, { accounts });
      },
    },
    ...KINDS.flatMap((kind) => [
      ...kindRoutes(records, kind),
      ...(kind.secret ? [secretRoute(records, kind, kind.secret)] : []),
      ...(kind.secret && kind.rotate ? [rotateRoute(records, kind, kind.secret)] : []),
      ...(kind.lockout ? [unlockRoute(records, kind, kind.lockout, options)] : []),
    ]),
    ...linkRoutes(records, options),
    ...sessionRoutes(records, options),
  ];
}

/** List and search, create, show and change the records of one kind. */
function kindRoutes(records: DirectoryRecords, kind: Kind): AdminRoute[] {
  const base = `/admin/directory/${kind.name}`;
  const schemas = schemasOf(kind);
  return [
    {
      method: 'GET',
      path: base,
      async handle(call) {
        const { q } = queryOf(call, ['q']);
        const part = (q ?? '').toLowerCase();
        const { list } = await records.list(new Disk(), call.subject.tenant, kind);
        const hits = list.filter((r) => kind.search.some((f) => typeof r[f] === 'string' && (r[f] as string).toLowerCase().includes(part)));
        const shown = [];
        // Each record's ETag as a single GET gives it: a change made from the list names the version the admin saw.
        const etags: Record<string, string> = {};
        for (const r of hits.slice(0, MAX_LISTED)) {
          shown.push(await records.view(kind, call.subject.tenant, r));
          etags[String(r[kind.key])] = etagOf(r);
        }
        call.send(200, { [kind.name]: shown, total: hits.length, etags });
      },
    },
    {
      method: 'POST',
      path: base,
      async handle(call) {
        const body = checkedBody<Record_>(schemas.create, await call.body());
        const id = body[kind.key] as string;
        // Members in the order the shipped file has them: key, credential, the rest.
        const record: Record_ = { [kind.key]: id };
        // A user may be created without a password (it signs in by OTP, or gets one later). A
        // server (sysapp) created without a secret gets one made here, answered once, as a rotation.
        let once: Record_ | undefined;
        if (kind.secret && body[kind.secret.body] === undefined && kind.rotate && body.type !== 'userapp') {
          const fresh = madeSecret();
          body[kind.secret.body] = fresh;
          once = { [kind.secret.body]: fresh };
        }
        if (kind.secret && body[kind.secret.body] !== undefined)
          record[kind.secret.member] = await hashedSecret(body[kind.secret.body] as string, kind.secret.body);
        for (const field of Object.keys(kind.fields)) if (body[field] !== undefined) record[field] = body[field];
        if (kind.lockout && record.status === undefined) record.status = 'active';
        await records.write(call, kind, id, 'create', async (disk) => {
          const { doc, list } = await records.list(disk, call.subject.tenant, kind);
          if (list.some((r) => r[kind.key] === id))
            throw new AdminError('ID_TAKEN', `${kind.name.slice(0, -1)} "${id}" already exists`, [`/${kind.key}`]);
          doc.tenants ??= {};
          const tenantDoc = (doc.tenants[call.subject.tenant] ??= {});
          tenantDoc[kind.name] = [...list, record];
          return doc;
        });
        await records.show(call, kind, id, 201, { location: `${base}/${encodeURIComponent(id)}` }, once);
      },
    },
    { method: 'GET', path: `${base}/{id}`, handle: (call) => records.show(call, kind, call.params.id as string) },
    {
      method: 'PATCH',
      path: `${base}/{id}`,
      async handle(call) {
        const body = checkedBody<Record_>(schemas.edit, await call.body());
        await records.change(call, kind, 'edit', (record) => {
          for (const [k, v] of Object.entries(body)) {
            if (v === null) delete record[k];
            else record[k] = v;
          }
        });
      },
    },
  ];
}

/** Sets a till's password or a client's secret, hashed here. */
function secretRoute(records: DirectoryRecords, kind: Kind, secret: NonNullable<Kind['secret']>): AdminRoute {
  const schema = schemasOf(kind).secret as object;
  return {
    method: 'POST',
    path: `/admin/directory/${kind.name}/{id}/${secret.body}`,
    async handle(call) {
      const body = checkedBody<Record<string, string>>(schema, await call.body());
      const hash = await hashedSecret(body[secret.body] as string, secret.body);
      await records.change(call, kind, `set-${secret.body}`, (record) => {
        record[secret.member] = hash;
      });
    },
  };
}

/**
 * Replaces a client's secret with one made here (32 bytes from the CSPRNG, base64url): the
 * answer is the only place it ever appears (not the file, which gets its hash, nor the log
 * or the audit event, which say only that it was rotated). A public client has no secret to
 * rotate: giving it one would make it confidential, a change of what it is.
 */
function rotateRoute(records: DirectoryRecords, kind: Kind, secret: NonNullable<Kind['secret']>): AdminRoute {
  return {
    method: 'POST',
    path: `/admin/directory/${kind.name}/{id}/${secret.body}/rotate`,
    async handle(call) {
      const fresh = madeSecret();
      const hash = await hashedSecret(fresh, secret.body);
      await records.change(
        call,
        kind,
        `rotate-${secret.body}`,
        (record) => {
          if (typeof record[secret.member] !== 'string')
            throw new AdminError(
              'PUBLIC_CLIENT',
              `${kind.subject} "${String(record[kind.key])}" has no ${secret.body} to rotate (a public client)`,
            );
          record[secret.member] = hash;
        },
        { [secret.body]: fresh },
      );
    },
  };
}

/** A client secret made here: 32 bytes from the CSPRNG, base64url. */
function madeSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Unlocks an account the directory has: unknown names are counted too, but an admin unlocks accounts. */
function unlockRoute(records: DirectoryRecords, kind: Kind, lock: NonNullable<Kind['lockout']>, options: ChangeOptions): AdminRoute {
  return {
    method: 'POST',
    path: `/admin/directory/${kind.name}/{id}/unlock`,
    async handle(call) {
      const id = call.params.id as string;
      const { tenant, sub } = call.subject;
      records.checkNotOperator(call, kind, id);
      const { record } = await records.find(new Disk(), tenant, kind, id);
      await records.unlock(tenant, lock, record);
      options.logger.info({ tenant, admin: sub, kind: lock.prefix, account: id }, 'account unlocked by the admin API');
      options.holder.current.services.audit?.event('admin.account_unlocked', { subject: sub, tenant, kind: lock.prefix, account: id });
      await records.show(call, kind, id);
    },
  };
}

/**
 * A user's links to upstream identities (federated-account, federated-link): listed, and one
 * removed, after which the next sign-in from that upstream identity is a first one again.
 */
function linkRoutes(records: DirectoryRecords, options: ChangeOptions): AdminRoute[] {
  const users = KINDS.find((k) => k.name === 'users') as Kind;
  const storeOf = (tenant: string) => prefixedStore(options.holder.current.services.store, tenantPrefix(tenant));
  return [
    {
      method: 'GET',
      path: '/admin/directory/users/{id}/links',
      async handle(call) {
        const id = call.params.id as string;
        await records.find(new Disk(), call.subject.tenant, users, id);
        call.send(200, { links: await linksOf(storeOf(call.subject.tenant), id) });
      },
    },
    {
      method: 'DELETE',
      path: '/admin/directory/users/{id}/links/{link}',
      async handle(call) {
        const id = call.params.id as string;
        const link = call.params.link as string;
        const { tenant, sub } = call.subject;
        records.checkNotOperator(call, users, id);
        await records.find(new Disk(), tenant, users, id);
        if (!(await unlink(storeOf(tenant), id, link)))
          throw new AdminError('NOT_FOUND', `user "${id}" has no link "${link}" in tenant "${tenant}"`);
        options.logger.info({ tenant, admin: sub, user: id, link }, 'upstream link removed by the admin API');
        options.holder.current.services.audit?.event('admin.link_removed', { subject: sub, tenant, user: id, link });
        call.res.statusCode = 204;
        call.res.end();
      },
    },
  ];
}

/**
 * A user's single sign-on sessions at the OpenID door: listed, and ended one by one (its
 * grants too, so the apps' tokens stop working and the next sign-in asks for the password).
 */
function sessionRoutes(records: DirectoryRecords, options: ChangeOptions): AdminRoute[] {
  const users = KINDS.find((k) => k.name === 'users') as Kind;
  const base = '/admin/directory/users/{id}/sessions';
  return [
    {
      method: 'GET',
      path: base,
      async handle(call) {
        const id = call.params.id as string;
        await records.find(new Disk(), call.subject.tenant, users, id);
        call.send(200, { sessions: await accountSessions(records.tenantStore(call.subject.tenant), id, Date.now()) });
      },
    },
    {
      method: 'DELETE',
      path: `${base}/{handle}`,
      async handle(call) {
        const { id, handle } = call.params as { id: string; handle: string };
        const { tenant, sub, role } = call.subject;
        records.checkNotOperator(call, users, id);
        await records.find(new Disk(), tenant, users, id);
        const store = records.tenantStore(tenant);
        const tolerance = options.holder.current.main.tokens?.clock_tolerance ?? 0;
        const Adapter = storeAdapter(store, (TTL.AccessToken + tolerance) * 1000);
        if (!(await endAccountSession(store, Adapter, id, handle, Date.now())))
          throw new AdminError('NOT_FOUND', `user "${id}" has no session "${handle}" (it may have ended)`);
        options.logger.info({ tenant, admin: sub, role, user: id }, 'session ended by the admin API');
        options.holder.current.services.audit?.event('admin.session_ended', { subject: sub, role, tenant, account: id, session: handle });
        call.res.statusCode = 204;
        call.res.end();
      },
    },
  ];
}
