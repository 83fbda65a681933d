/**
 * The kinds of directory record the admin API edits (tills, API clients, users): which array
 * and key each lives under, what the API may set, what it never shows, what search looks
 * at, and the JSON Schemas of the request bodies that follow from it.
 */
export type Record_ = Record<string, unknown>;

export interface Kind {
  /** The directory array and the path segment. */
  readonly name: 'tills' | 'clients' | 'users';
  readonly key: 'username' | 'client_id' | 'id';
  /** The token `kind` claim of such a record's subject. */
  readonly subject: 'till' | 'client' | 'user';
  /** The hashed credential member, and the body member and path that set it. */
  readonly secret?: { member: 'password_hash' | 'secret_hash'; body: 'password' | 'secret' };
  /** The lockout account as basic-auth counts it: `<prefix>:<the record's member>` (a user is counted by its username). */
  readonly lockout?: { prefix: 'till' | 'client' | 'user'; member: 'username' | 'client_id' };
  /** Whether the server may make a new secret and show it once (API clients: nobody types theirs). */
  readonly rotate?: boolean;
  /** Members the API may set besides the key. */
  readonly fields: Readonly<Record<string, object>>;
  readonly required: readonly string[];
  /** The hashed credential a record may have, and the boolean the API shows for it instead. */
  readonly credential: { member: 'password_hash' | 'secret_hash'; shown: 'has_password' | 'has_secret' };
  readonly search: readonly string[];
}

const status = { enum: ['active', 'disabled'] };
const text = (max = 128) => ({ type: 'string', minLength: 1, maxLength: max });
const secretField = { type: 'string', minLength: 1, maxLength: 4096 };
const uris = { type: 'array', uniqueItems: true, maxItems: 50, items: text(2000) };

export const KINDS: readonly Kind[] = [
  {
    name: 'tills',
    key: 'username',
    subject: 'till',
    secret: { member: 'password_hash', body: 'password' },
    lockout: { prefix: 'till', member: 'username' },
    fields: { store: text(), status },
    required: ['username', 'store', 'password'],
    credential: { member: 'password_hash', shown: 'has_password' },
    search: ['username', 'store'],
  },
  {
    name: 'clients',
    key: 'client_id',
    subject: 'client',
    secret: { member: 'secret_hash', body: 'secret' },
    lockout: { prefix: 'client', member: 'client_id' },
    rotate: true,
    fields: {
      // sysapp: a server with a secret (client credentials); userapp: signs users in, public unless given a secret.
      type: { enum: ['sysapp', 'userapp'] },
      pool: text(64),
      scopes: { type: 'array', uniqueItems: true, maxItems: 200, items: text(200) },
      status,
      access_group: text(),
      // Checked as URIs by the directory's schema when the config loads with the change (a 422 at the pointer).
      redirect_uris: uris,
      post_logout_redirect_uris: uris,
    },
    // A sysapp created without a secret gets one made on the server (shown once); a userapp without one is public.
    required: ['client_id'],
    credential: { member: 'secret_hash', shown: 'has_secret' },
    search: ['client_id', 'access_group'],
  },
  {
    name: 'users',
    key: 'id',
    subject: 'user',
    secret: { member: 'password_hash', body: 'password' },
    lockout: { prefix: 'user', member: 'username' },
    fields: {
      username: text(),
      name: text(256),
      mobile: text(32),
      email: text(254),
      status,
      access_group: text(),
      attributes: { type: 'object', maxProperties: 100, additionalProperties: { type: 'string', maxLength: 1024 } },
    },
    required: ['id'],
    credential: { member: 'password_hash', shown: 'has_password' },
    search: ['id', 'username', 'mobile', 'email'],
  },
];

/** A field set to null in a change is removed (e.g. access_group: back to the default). */
function nullable(schema: object): object {
  return { anyOf: [schema, { type: 'null' }] };
}

/** The request bodies of a kind: create, edit (null removes a field), and set-secret. */
export function schemasOf(kind: Kind) {
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
    properties: Object.fromEntries(
      Object.entries(kind.fields).map(([k, v]) => [k, k === 'status' || k === 'store' || k === 'type' ? v : nullable(v)]),
    ),
  };
  const secret = kind.secret
    ? { type: 'object', additionalProperties: false, required: [kind.secret.body], properties: { [kind.secret.body]: secretField } }
    : undefined;
  return { create, edit, secret };
}

/**
 * Members no admin answer carries, at any depth: every hash (by name, so a hashed member
 * added later cannot leak) and TOTP seeds. They are still in the file and still checked.
 */
function isHidden(member: string): boolean {
  return member.endsWith('_hash') || member === 'totp_secret';
}

function withoutHidden(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHidden);
  if (value === null || typeof value !== 'object') return value;
  const out: Record_ = {};
  for (const [k, v] of Object.entries(value)) if (!isHidden(k)) out[k] = withoutHidden(v);
  return out;
}

/** A record as admin answers show it: no hidden member, and whether it has its credential (`has_password`, `has_secret`). */
export function shownRecord(kind: Kind, record: Record_): Record_ {
  const shown = withoutHidden(record) as Record_;
  const hash = record[kind.credential.member];
  shown[kind.credential.shown] = typeof hash === 'string' && hash !== '';
  return shown;
}
