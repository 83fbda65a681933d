/**
 * The JSON Schemas of the admin API's request bodies and answers that the OpenAPI document
 * publishes beyond "an object": the console's typed client is generated from them
 * (`authpipe schemas` writes web/src/admin-api.ts), so a change of an answer's shape here is
 * a type error in the console, not a blank page. The bodies are the very schemas the routes
 * check them with.
 */
import { KINDS, schemasOf, type Kind } from './directory-kinds.js';
import { KEY_BODIES } from './keys.js';
import { DRY_RUN_BODY } from './try-it.js';
import { pipeSchema } from '../engine/pipe-schema.js';
import { POOL_BODIES } from './pools.js';
import { BRANDING } from './branding.js';
import { TENANT_BODIES } from './tenants.js';

interface Shapes {
  body?: object;
  answer?: object;
}

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const list = (items: object) => ({ type: 'array', items });
const object = (properties: Record<string, object>, required: string[] = Object.keys(properties), open = false) => ({
  type: 'object',
  required,
  properties,
  additionalProperties: open,
});
const byId = { type: 'object', additionalProperties: str } as const;
const orNull = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });

/** A directory record as answers show it: its members (those the API sets, and any other the file has), no hash. */
function record(kind: Kind): object {
  const shown: Record<string, object> = { [kind.key]: str, ...kind.fields, [kind.credential.shown]: bool };
  if (kind.lockout) Object.assign(shown, { locked: bool, lockedForSeconds: int });
  if (kind.rotate) shown[kind.secret?.body as string] = { ...str, description: 'Made on the server: in this answer only.' };
  return object(shown, [kind.key, kind.credential.shown], true);
}

const SESSION = object({ handle: str, door: { enum: ['hosted', 'put'] }, signedIn: str, expires: str, clients: list(str) }, [
  'handle',
  'door',
  'clients',
]);
const LINK = object({ id: str, upstream: str, upstream_sub: str, linked_at: str, how: str }, [
  'id',
  'upstream',
  'upstream_sub',
  'linked_at',
  'how',
]);
const KEY = object({
  kid: str,
  alg: str,
  state: { enum: ['active', 'published', 'retired'] },
  created: str,
  activeFrom: str,
  shared: bool,
});
const KEYS = object({ issuer: str, activationFloorSeconds: int, keys: list(KEY), kid: str }, ['activationFloorSeconds', 'keys']);
const POOL = { ...POOL_BODIES.pool, required: ['id', 'steps'], properties: { id: str, ...POOL_BODIES.pool.properties } };
const TENANT = object({ id: str, displayName: str, allowedOperation: list(str) });
const LISTED_TENANT = object({ ...TENANT.properties, own: bool, issuer: str }, ['id', 'displayName', 'allowedOperation', 'own']);
const STORE = object({ id: str, name: str, access_group: str, manager: str }, ['id', 'name']);

/** An audit event: its time and type, then the fields it was written with (an admin change's diff as JSON text). */
const AUDIT_EVENT = object(
  { time: str, event: str, subject: str, tenant: str, operation: str, code: str, door: str, diff: str },
  ['time', 'event'],
  true,
);

const ISSUE = object({ file: str, pointer: str, message: str, code: str }, ['file', 'pointer', 'message'], true);
const COUNTER = object({ door: str, operation: str, outcome: str, code: str, count: int });
const OVERVIEW = object(
  {
    tenant: str,
    admin: str,
    role: { enum: ['operator', 'tenant-admin'] },
    tenants: list(object({ id: str, displayName: str, operations: list(str) })),
    version: str,
    loadedAt: str,
    lastReloadError: { anyOf: [{ type: 'null' }, object({ at: str, count: int, issues: list(ISSUE) }, ['at', 'count'])] },
    store: { enum: ['up', 'down'] },
    ldap: list(object({ id: str, url: str, reachable: bool })),
    time: str,
    calls: { anyOf: [{ type: 'null' }, list(COUNTER)] },
  },
  ['tenant', 'admin', 'role', 'tenants', 'version', 'loadedAt', 'lastReloadError', 'store', 'ldap', 'time', 'calls'],
);
const PIPE_SUMMARY = object({
  id: str,
  description: str,
  valves: int,
  owner: { ...str, description: "shared (the operator's) or the tenant whose own pipe it is" },
  editable: bool,
  usedBy: list(str),
  calls: list(str),
});

const GROUP_SUMMARY = object({
  id: str,
  name: str,
  status: str,
  description: str,
  builtIn: bool,
  isDefault: bool,
  createdOn: orNull(str),
  createdBy: orNull(str),
  lastUpdatedOn: orNull(str),
  lastUpdatedBy: orNull(str),
  allocatedStores: int,
});
const GROUP = object({
  ...GROUP_SUMMARY.properties,
  permissions: { type: 'object', additionalProperties: byId },
  scope: str,
  stores: list(object({ id: str, name: str })),
});
const DEFAULT_GROUP = object({ group: orNull(str) });

const CHANGE = object({ scope: str, name: str, op: { enum: ['added', 'changed', 'removed'] }, value: str, previous: str }, [
  'scope',
  'name',
  'op',
]);
const TRACE_STEP = object(
  {
    pipe: str,
    depth: int,
    index: int,
    valve: str,
    label: str,
    outcome: str,
    ms: { type: 'number' },
    reason: str,
    condition: {},
    code: str,
    detail: str,
    changes: list(CHANGE),
  },
  ['pipe', 'depth', 'index', 'valve', 'label', 'outcome', 'ms', 'changes'],
);
const TRACE = object(
  {
    pipe: str,
    tenant: str,
    operation: str,
    requestId: str,
    request: byId,
    steps: list(TRACE_STEP),
    status: int,
    code: str,
    ms: { type: 'number' },
  },
  ['pipe', 'tenant', 'operation', 'requestId', 'request', 'steps'],
);
const DRY_RUN_ANSWER = object(
  {
    status: int,
    body: { type: 'object', additionalProperties: {} },
    headers: byId,
    error: object({ code: str, detail: orNull(str) }),
    trace: TRACE,
  },
  ['status', 'body', 'headers'],
);
/** A member of a pipe or a step, or a valve's config: a JSON Schema, shown to the editor as it is. */
const SCHEMA = { type: 'object', additionalProperties: {} } as const;
const VALVES = object({
  pipe: { type: 'object', additionalProperties: SCHEMA },
  step: { type: 'object', additionalProperties: SCHEMA },
  valves: list(object({ name: str, summary: str, configSchema: SCHEMA })),
});
/** A pipe file as the API reads and writes it. */
const PIPE = pipeSchema;

export const SHAPES: Record<string, Shapes> = {
  'GET /admin/pipes/{id}': { answer: PIPE },
  'POST /admin/pipes': { body: PIPE, answer: PIPE },
  'PUT /admin/pipes/{id}': { body: PIPE, answer: PIPE },
  'POST /admin/dry-run': { body: DRY_RUN_BODY, answer: DRY_RUN_ANSWER },
  'GET /admin/valves': { answer: VALVES },
  'GET /admin/access-groups': { answer: object({ groups: list(GROUP_SUMMARY), default: orNull(str) }) },
  'POST /admin/access-groups': { answer: GROUP },
  'GET /admin/access-groups/default': { answer: DEFAULT_GROUP },
  'PUT /admin/access-groups/default': { answer: DEFAULT_GROUP },
  'GET /admin/access-groups/{id}': { answer: GROUP },
  'PATCH /admin/access-groups/{id}': { answer: GROUP },
  'POST /admin/access-groups/{id}/activate': { answer: GROUP },
  'POST /admin/access-groups/{id}/deactivate': { answer: GROUP },
  'POST /admin/access-groups/{id}/stores': { answer: GROUP },
  'GET /admin/resources': {
    answer: object({ apis: list(object({ id: str, title: str, resources: list(str) })), levels: list(str) }),
  },
  'GET /admin/overview': { answer: OVERVIEW },
  'GET /admin/pipes': { answer: object({ pipes: list(PIPE_SUMMARY) }) },
  'POST /admin/pipes/{id}/validate': { body: PIPE, answer: object({ issues: list(ISSUE) }) },
  'GET /admin/audit': { answer: object({ events: list(AUDIT_EVENT) }) },
  'GET /admin/tenants': { answer: object({ tenants: list(LISTED_TENANT) }) },
  'POST /admin/tenants': { body: TENANT_BODIES.create, answer: object({ ...TENANT.properties, issuer: str }, ['id']) },
  'GET /admin/tenants/{id}': { answer: TENANT },
  'PATCH /admin/tenants/{id}': { body: TENANT_BODIES.edit, answer: TENANT },
  'GET /admin/directory/stores': { answer: object({ stores: list(STORE) }) },
  'GET /admin/locked': { answer: object({ accounts: list(object({ kind: str, id: str, lockedForSeconds: int })) }) },
  'GET /admin/directory/users/{id}/sessions': { answer: object({ sessions: list(SESSION) }) },
  'GET /admin/directory/users/{id}/links': { answer: object({ links: list(LINK) }) },
  'GET /admin/keys': { answer: KEYS },
  'POST /admin/keys/rotate': { body: KEY_BODIES.rotate, answer: KEYS },
  'POST /admin/keys/{kid}/activate': { body: KEY_BODIES.activate, answer: KEYS },
  'GET /admin/pools': { answer: object({ pools: list(POOL), etags: byId }) },
  'POST /admin/pools': { body: POOL_BODIES.create, answer: POOL },
  'GET /admin/pools/{id}': { answer: POOL },
  'PUT /admin/pools/{id}': { body: POOL_BODIES.pool, answer: POOL },
  'GET /admin/branding': { answer: BRANDING },
  'PUT /admin/branding': { body: BRANDING, answer: BRANDING },
};
for (const kind of KINDS) {
  const base = `/admin/directory/${kind.name}`;
  const bodies = schemasOf(kind);
  const one = record(kind);
  SHAPES[`GET ${base}`] = { answer: object({ [kind.name]: list(one), total: int, etags: byId }) };
  SHAPES[`POST ${base}`] = { body: bodies.create, answer: one };
  SHAPES[`GET ${base}/{id}`] = { answer: one };
  SHAPES[`PATCH ${base}/{id}`] = { body: bodies.edit, answer: one };
  if (kind.secret) SHAPES[`POST ${base}/{id}/${kind.secret.body}`] = { body: bodies.secret as object, answer: one };
  if (kind.rotate) SHAPES[`POST ${base}/{id}/${kind.secret?.body}/rotate`] = { answer: one };
  if (kind.lockout) SHAPES[`POST ${base}/{id}/unlock`] = { answer: one };
}
