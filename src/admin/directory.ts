/**
 * Tills, API clients and users of the admin's own tenant, in the directory file: list and
 * search, create, change (status to disable or enable; store, access group, scopes,
 * contact data), set a till's password or a client's secret (hashed here with the default
 * scrypt profile: the plain text is never stored or logged), unlock an account, and list
 * the locked ones. Hashes and TOTP secrets are never sent back. The file is rewritten in the
 * layout it ships in (one record per line), after the whole config loaded with the change.
 */
import { resolve } from 'node:path';
import { AdminError } from '../access-groups/admin/admin-error.js';
import { credentialTextProblem, normalizeCredential } from '../credentials/credential-text.js';
import { hashPassword } from '../credentials/hash.js';
import { DEFAULT_LOCKOUT, Lockout } from '../credentials/lockout.js';
import type { LoadedConfig } from '../config/load.js';
import { prefixedStore, tenantPrefix, type Store } from '../store/store.js';
import { checkedBody } from './bodies.js';
import { applyChange, checkIfMatch, Disk, etagOf, type ChangeOptions } from './config-change.js';
import { formatJson } from './format-json.js';
import { queryOf, type AdminCall, type AdminRoute } from './routes.js';

/** A password or secret set through the API: at least this long, at most what basic-auth reads by default. */
const MIN_SECRET_CHARS = 8;
const MAX_SECRET_BYTES = 256;
/** A list answers at most this many records; search narrows it. */
const MAX_LISTED = 500;

type Record_ = Record<string, unknown>;

interface Kind {
  /** The directory array and the path segment. */
  readonly name: 'tills' | 'clients' | 'users';
  readonly key: 'username' | 'client_id' | 'id';
  /** The hashed credential member, and the body member and path that set it. */
  readonly secret?: { member: 'password_hash' | 'secret_hash'; body: 'password' | 'secret' };
  /** Lockout account prefix, as basic-auth counts it. */
  readonly lockout?: 'till' | 'client';
  /** Members the API may set besides the key. */
  readonly fields: Readonly<Record<string, object>>;
  readonly required: readonly string[];
  /** Members that are never shown. */
  readonly hidden: readonly string[];
  readonly search: readonly string[];
}

const status = { enum: ['active', 'disabled'] };
const text = (max = 128) => ({ type: 'string', minLength: 1, maxLength: max });
const secretField = { type: 'string', minLength: 1, maxLength: 4096 };

const KINDS: readonly Kind[] = [
  {
    name: 'tills',
    key: 'username',
    secret: { member: 'password_hash', body: 'password' },
    lockout: 'till',
    fields: { store: text(), status },
    required: ['username', 'store', 'password'],
    hidden: ['password_hash'],
    search: ['username', 'store'],
  },
  {
    name: 'clients',
    key: 'client_id',
    secret: { member: 'secret_hash', body: 'secret' },
    lockout: 'client',
    fields: { scopes: { type: 'array', uniqueItems: true, maxItems: 200, items: text(200) }, status, access_group: text() },
    required: ['client_id', 'secret'],
    hidden: ['secret_hash'],
    search: ['client_id', 'access_group'],
  },
  {
    name: 'users',
    key: 'id',
    fields: {
      username: text(),
      mobile: text(32),
      email: text(254),
      status,
      access_group: text(),
      attributes: { type: 'object', maxProperties: 100, additionalProperties: { type: 'string', maxLength: 1024 } },
    },
    required: ['id'],
    hidden: ['totp_secret'],
    search: ['id', 'username', 'mobile', 'email'],
  },
];

/** A field set to null in a change is removed (e.g. access_group: back to the default). */
function nullable(schema: object): object {
  return { anyOf: [schema, { type: 'null' }] };
}

function schemasOf(kind: Kind) {
  const create = {
    type: 'object',
    additionalProperties: false,
    required: kind.required,
    properties: { [kind.key]: text(), ...kind.fields, ...(kind.secret ? { [kind.secret.body]: secretField } : {}) },
  };
  const edit = {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: Object.fromEntries(Object.entries(kind.fields).map(([k, v]) => [k, k === 'status' || k === 'store' ? v : nullable(v)])),
  };
  const secret = kind.secret
    ? { type: 'object', additionalProperties: false, required: [kind.secret.body], properties: { [kind.secret.body]: secretField } }
    : undefined;
  return { create, edit, secret };
}

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

export function directoryRoutes(options: ChangeOptions): AdminRoute[] {
  const { holder } = options;
  const tenantStore = (tenant: string): Store => prefixedStore(holder.current.services.store, tenantPrefix(tenant));

  const records = async (disk: Disk, tenant: string, kind: Kind): Promise<{ doc: DirectoryDoc; list: Record_[] }> => {
    const doc = (await disk.json(directoryPath(holder.current))) as DirectoryDoc;
    const list = doc.tenants?.[tenant]?.[kind.name] ?? [];
    return { doc, list };
  };

  const viewOf = async (kind: Kind, tenant: string, record: Record_) => {
    const shown: Record_ = {};
    for (const [k, v] of Object.entries(record)) if (!kind.hidden.includes(k)) shown[k] = v;
    if (kind.lockout) {
      const ms = await lockout.lockedForMs(tenantStore(tenant), `${kind.lockout}:${String(record[kind.key])}`);
      shown.locked = ms !== null;
      if (ms !== null) shown.lockedForSeconds = Math.ceil(ms / 1000);
    }
    return shown;
  };
  const etagFor = (record: Record_) => etagOf(record);

  const find = async (disk: Disk, tenant: string, kind: Kind, id: string) => {
    const { doc, list } = await records(disk, tenant, kind);
    const index = list.findIndex((r) => r[kind.key] === id);
    if (index < 0) throw new AdminError('NOT_FOUND', `no ${kind.name.slice(0, -1)} "${id}" in tenant "${tenant}"`);
    return { doc, list, index, record: list[index] as Record_ };
  };

  const show = async (call: AdminCall, kind: Kind, id: string, status = 200, extra: Record<string, string> = {}) => {
    const { record } = await find(new Disk(), call.subject.tenant, kind, id);
    call.send(status, await viewOf(kind, call.subject.tenant, record), { etag: etagFor(record), ...extra });
  };

  /** Writes `update` of one record (or a new one) back to the directory file. */
  const write = (call: AdminCall, kind: Kind, id: string, action: string, edit: (disk: Disk) => Promise<DirectoryDoc>) =>
    applyChange(options, call.subject, async (disk) => {
      const doc = await edit(disk);
      return {
        files: new Map([[directoryPath(holder.current), formatJson(doc)]]),
        audit: { resource: kind.name.slice(0, -1), action, id },
      };
    });

  const routes: AdminRoute[] = [
    {
      method: 'GET',
      path: '/admin/directory/stores',
      async handle(call) {
        const doc = (await new Disk().json(directoryPath(holder.current))) as DirectoryDoc;
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
        for (const kind of KINDS.filter((k) => k.lockout)) {
          for (const record of (await records(disk, tenant, kind)).list.slice(0, MAX_LISTED)) {
            const id = String(record[kind.key]);
            const ms = await lockout.lockedForMs(tenantStore(tenant), `${kind.lockout}:${id}`);
            if (ms !== null) accounts.push({ kind: kind.lockout, id, lockedForSeconds: Math.ceil(ms / 1000) });
          }
        }
        call.send(200, { accounts });
      },
    },
  ];

  for (const kind of KINDS) {
    const base = `/admin/directory/${kind.name}`;
    const schemas = schemasOf(kind);
    routes.push(
      {
        method: 'GET',
        path: base,
        async handle(call) {
          const { q } = queryOf(call, ['q']);
          const part = (q ?? '').toLowerCase();
          const { list } = await records(new Disk(), call.subject.tenant, kind);
          const hits = list.filter((r) =>
            kind.search.some((f) => typeof r[f] === 'string' && (r[f] as string).toLowerCase().includes(part)),
          );
          const shown = [];
          for (const r of hits.slice(0, MAX_LISTED)) shown.push(await viewOf(kind, call.subject.tenant, r));
          call.send(200, { [kind.name]: shown, total: hits.length });
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
          if (kind.secret) record[kind.secret.member] = await hashedSecret(body[kind.secret.body] as string, kind.secret.body);
          for (const field of Object.keys(kind.fields)) if (body[field] !== undefined) record[field] = body[field];
          if (kind.lockout && record.status === undefined) record.status = 'active';
          await write(call, kind, id, 'create', async (disk) => {
            const { doc, list } = await records(disk, call.subject.tenant, kind);
            if (list.some((r) => r[kind.key] === id))
              throw new AdminError('ID_TAKEN', `${kind.name.slice(0, -1)} "${id}" already exists`, [`/${kind.key}`]);
            doc.tenants ??= {};
            const tenantDoc = (doc.tenants[call.subject.tenant] ??= {});
            tenantDoc[kind.name] = [...list, record];
            return doc;
          });
          await show(call, kind, id, 201, { location: `${base}/${encodeURIComponent(id)}` });
        },
      },
      { method: 'GET', path: `${base}/{id}`, handle: (call) => show(call, kind, call.params.id as string) },
      {
        method: 'PATCH',
        path: `${base}/{id}`,
        async handle(call) {
          const id = call.params.id as string;
          const body = checkedBody<Record_>(schemas.edit, await call.body());
          await write(call, kind, id, 'edit', async (disk) => {
            const { doc, record } = await find(disk, call.subject.tenant, kind, id);
            checkIfMatch(call.req.headersDistinct['if-match'], etagFor(record));
            for (const [k, v] of Object.entries(body)) {
              if (v === null) delete record[k];
              else record[k] = v;
            }
            return doc;
          });
          await show(call, kind, id);
        },
      },
    );
    if (kind.secret && schemas.secret) {
      const secret = kind.secret;
      const secretSchema = schemas.secret;
      routes.push({
        method: 'POST',
        path: `${base}/{id}/${secret.body}`,
        async handle(call) {
          const id = call.params.id as string;
          const body = checkedBody<Record<string, string>>(secretSchema, await call.body());
          const hash = await hashedSecret(body[secret.body] as string, secret.body);
          await write(call, kind, id, `set-${secret.body}`, async (disk) => {
            const { doc, record } = await find(disk, call.subject.tenant, kind, id);
            checkIfMatch(call.req.headersDistinct['if-match'], etagFor(record));
            record[secret.member] = hash;
            return doc;
          });
          await show(call, kind, id);
        },
      });
    }
    if (kind.lockout) {
      const prefix = kind.lockout;
      routes.push({
        method: 'POST',
        path: `${base}/{id}/unlock`,
        async handle(call) {
          const id = call.params.id as string;
          // Only accounts the directory has: unknown names are counted too, but an admin unlocks accounts.
          await find(new Disk(), call.subject.tenant, kind, id);
          await lockout.unlock(tenantStore(call.subject.tenant), `${prefix}:${id}`);
          options.logger.info(
            { tenant: call.subject.tenant, admin: call.subject.sub, kind: prefix, account: id },
            'account unlocked by the admin API',
          );
          holder.current.services.audit?.event('admin.account_unlocked', {
            subject: call.subject.sub,
            tenant: call.subject.tenant,
            kind: prefix,
            account: id,
          });
          await show(call, kind, id);
        },
      });
    }
  }
  return routes;
}
