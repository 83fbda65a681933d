/**
 * The OpenAPI 3.1 description of the admin API, served at /admin/openapi.json. Every route
 * the server has is described here by "METHOD path" (test/admin/openapi.test.ts walks the
 * real routes against it, so neither can change alone).
 */
import type { AdminRole } from './auth.js';
import type { AdminRoute } from './routes.js';
import { SHAPES } from './answer-schemas.js';
import { CONFIG_ISSUE_CODES } from '../errors.js';

interface Doc {
  summary: string;
  /** The success status. */
  ok: number;
  /** Writes that need If-Match with the ETag of a GET. */
  ifMatch?: boolean;
  body?: object;
  /** Extra refusal statuses beyond the ones every admin route has. */
  refusals?: number[];
  /** The role the route needs: an operator, or an admin of the tenant it acts on (operators too). */
  role?: AdminRole;
  /** What on a tenant admin's route only an operator may do. */
  operatorOnly?: string;
}

const obj = { type: 'object' };
const CONFIG_WRITE = [409, 412, 422, 428, 503];

/** The access-groups routes (src/access-groups/admin/router.ts), described here too. */
export const ACCESS_GROUP_DOCS: Record<string, Doc> = {
  'GET /admin/access-groups': { summary: 'List access groups (search: ?name=part) with the tenant default', ok: 200 },
  'POST /admin/access-groups': {
    summary: 'Create a custom group {name, description?, permissions?, id?}',
    ok: 201,
    body: obj,
    refusals: [409, 503],
  },
  'GET /admin/access-groups/default': { summary: 'The tenant default group', ok: 200 },
  'PUT /admin/access-groups/default': {
    summary: 'Set the tenant default {group: id | null}',
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: [409, 412, 428, 503],
  },
  'GET /admin/access-groups/{id}': { summary: 'One group with its permissions table, scope and stores', ok: 200 },
  'PATCH /admin/access-groups/{id}': {
    summary: 'Edit name, description, permissions (not built-ins)',
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: [409, 412, 428, 503],
  },
  'POST /admin/access-groups/{id}/activate': { summary: 'Activate a custom group', ok: 200, ifMatch: true, refusals: [409, 412, 428, 503] },
  'POST /admin/access-groups/{id}/deactivate': {
    summary: 'Deactivate a custom group (no stores, not the default)',
    ok: 200,
    ifMatch: true,
    refusals: [409, 412, 428, 503],
  },
  'POST /admin/access-groups/{id}/stores': {
    summary: 'Allocate stores {add: [...], remove: [...]}',
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: [409, 412, 428, 503],
  },
};

export const ROUTE_DOCS: Record<string, Doc> = {
  'GET /admin/overview': {
    summary: 'Tenants, config version, last reload error, store and LDAP health, call counters of the tenant',
    ok: 200,
  },
  'GET /admin/tenants': { summary: 'Your tenant (an operator: every tenant) with its display name and operations', ok: 200 },
  'POST /admin/tenants': {
    summary: 'Create a tenant {id, displayName?, allowedOperation?}; the answer names its issuer',
    ok: 201,
    body: obj,
    refusals: CONFIG_WRITE,
    role: 'operator',
  },
  'GET /admin/tenants/{id}': { summary: 'One tenant; ETag', ok: 200, operatorOnly: 'another tenant than the tenant header names' },
  'PATCH /admin/tenants/{id}': {
    summary: 'Change displayName or allowedOperation of your own tenant',
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: CONFIG_WRITE,
    operatorOnly: 'another tenant than the tenant header names',
  },
  'GET /admin/pipes': { summary: "The tenant's pipes (its own, then shared ones) with owner, tenants and the pipes each calls", ok: 200 },
  'POST /admin/pipes': {
    summary: "Create a pipe (the body is the pipe file; ?owner=tenant|shared, default the tenant's for a tenant admin)",
    ok: 201,
    body: obj,
    refusals: CONFIG_WRITE,
    operatorOnly: 'a shared pipe (?owner=shared)',
  },
  'GET /admin/pipes/{id}': { summary: 'The pipe file the tenant runs; ETag; x-pipe-owner: shared or the tenant', ok: 200 },
  'PUT /admin/pipes/{id}': {
    summary: 'Replace a pipe',
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: CONFIG_WRITE,
    operatorOnly: 'a shared pipe',
  },
  'POST /admin/pipes/{id}/validate': { summary: 'Check a pipe as a save would, writing nothing: {issues}', ok: 200, body: obj },
  'GET /admin/resources': { summary: 'The APIs and resources access groups grant, and the access levels', ok: 200 },
  'GET /admin/valves': { summary: 'Every valve with its summary and config schema, and the members of a pipe and a step', ok: 200 },
  'DELETE /admin/pipes/{id}': {
    summary: 'Delete a pipe no tenant allows and no pipe calls (a tenant pipe: the shared one of its id applies again)',
    ok: 204,
    ifMatch: true,
    refusals: CONFIG_WRITE,
    operatorOnly: 'a shared pipe',
  },
  'GET /admin/directory/stores': { summary: 'Stores of your tenant', ok: 200 },
  'GET /admin/locked': { summary: 'Locked tills and clients of your tenant', ok: 200 },
  'POST /admin/dry-run': { summary: 'Run an operation of your tenant with a trace {operation, body, headers}', ok: 200, body: obj },
  'GET /admin/audit': {
    summary:
      'Audit events kept in the store, newest first (?tenant, ?subject, ?event, ?door, ?since, ?until, ?limit; ?format=jsonl: JSON lines)',
    ok: 200,
  },
};
for (const [kind, secret] of [
  ['tills', 'password'],
  ['clients', 'secret'],
  ['users', 'password'],
] as const) {
  const base = `/admin/directory/${kind}`;
  Object.assign(ROUTE_DOCS, {
    [`GET ${base}`]: { summary: `List or search (?q=) ${kind}, with each record's ETag in etags`, ok: 200 },
    [`POST ${base}`]: { summary: `Create one of the ${kind}`, ok: 201, body: obj, refusals: CONFIG_WRITE },
    [`GET ${base}/{id}`]: { summary: `One of the ${kind}; ETag`, ok: 200 },
    [`PATCH ${base}/{id}`]: {
      summary: `Change one of the ${kind} (status: disable or enable; access_group: move)`,
      ok: 200,
      ifMatch: true,
      body: obj,
      refusals: CONFIG_WRITE,
      operatorOnly: "an operator's account",
    },
  });
  ROUTE_DOCS[`POST ${base}/{id}/${secret}`] = {
    summary: `Set the ${secret} (hashed on the server; 8 characters to 256 bytes)`,
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: CONFIG_WRITE,
    operatorOnly: "an operator's account",
  };
  ROUTE_DOCS[`POST ${base}/{id}/unlock`] = { summary: 'Clear the lockout of the account', ok: 200, operatorOnly: "an operator's account" };
}
ROUTE_DOCS['GET /admin/directory/users/{id}/links'] = {
  summary: "The user's links to upstream identity providers: {links: [{id, upstream, upstream_sub, linked_at, how}]}",
  ok: 200,
};
ROUTE_DOCS['DELETE /admin/directory/users/{id}/links/{link}'] = {
  summary: 'Remove a link (its id from the list): the next sign-in from that upstream identity is a first one again',
  ok: 204,
  operatorOnly: "an operator's account",
};
ROUTE_DOCS['POST /admin/directory/clients/{id}/secret/rotate'] = {
  summary:
    'Replace the secret with one made on the server; the answer carries it as secret, once (409 PUBLIC_CLIENT for a client without one)',
  ok: 200,
  ifMatch: true,
  refusals: CONFIG_WRITE,
  operatorOnly: "an operator's account",
};

Object.assign(ROUTE_DOCS, {
  'GET /admin/keys': {
    summary: "Your tenant's signing keys with their states (active, published, retired), the issuer and the activation floor; ETag",
    ok: 200,
  },
  'POST /admin/keys/rotate': {
    summary: 'A new key {algorithm?}: published at once, signing after tokens.activation_delay_seconds',
    ok: 201,
    ifMatch: true,
    body: obj,
    refusals: [409, 412, 428, 503],
  },
  'POST /admin/keys/{kid}/activate': {
    summary: 'A published key of your tenant signs now {force?}; 409 KEY_TOO_NEW within the JWKS cache lifetime of its writing',
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: [409, 412, 428, 503],
    operatorOnly: 'force',
  },
  'GET /admin/pools': { summary: "Your tenant's user pools (oidc.tenants.<tenant>.pools), with each pool's ETag in etags", ok: 200 },
  'POST /admin/pools': {
    summary: 'Create a pool {id, steps: [{operation, fields, ...}], title?, ...} as the main file holds it',
    ok: 201,
    body: obj,
    refusals: CONFIG_WRITE,
    operatorOnly: "a pool of an operator's home tenant",
  },
  'GET /admin/pools/{id}': { summary: 'One pool; ETag', ok: 200 },
  'PUT /admin/pools/{id}': {
    summary: 'Replace a pool: its steps, in order, each naming the pipe that completes it',
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: CONFIG_WRITE,
    operatorOnly: "a pool of an operator's home tenant",
  },
  'GET /admin/branding': {
    summary:
      "The tenant's own branding (oidc.tenants.<tenant>.branding; {} when none), which pools without their own inherit key by key; ETag; ?tenant=: another tenant",
    ok: 200,
    operatorOnly: 'another tenant than the tenant header names (?tenant=)',
  },
  'PUT /admin/branding': {
    summary:
      "Replace the tenant's branding {display_name?, logo?, stylesheet?, colors?}; an off-site logo or stylesheet is a 422 at its pointer",
    ok: 200,
    ifMatch: true,
    body: obj,
    refusals: CONFIG_WRITE,
    operatorOnly: "another tenant than the tenant header names (?tenant=), and an operator's home tenant",
  },
  'GET /admin/directory/users/{id}/sessions': {
    summary: "The user's single sign-on sessions at the OpenID door: handle, signedIn, expires, clients",
    ok: 200,
  },
  'DELETE /admin/directory/users/{id}/sessions/{handle}': {
    summary: "End one session of the user and its grants: its apps' tokens are refused, the next sign-in asks again",
    ok: 204,
    operatorOnly: "an operator's account",
  },
} satisfies Record<string, Doc>);

const FAILURE = {
  type: 'object',
  required: ['status', 'errorTranslationKeys', 'requestId'],
  properties: {
    status: { const: 'Failure' },
    errorTranslationKeys: { type: 'array', items: { type: 'string' }, description: 'A catalogue code, then the precise reason.' },
    erroneousProperties: { type: 'array', items: { type: 'string' } },
    message: { type: 'string' },
    requestId: { type: 'string' },
    issues: {
      type: 'array',
      description: 'On 422: what `authpipe validate` would print for the config with the change.',
      items: {
        type: 'object',
        properties: {
          file: { type: 'string' },
          pointer: { type: 'string' },
          message: { type: 'string' },
          code: { enum: Object.keys(CONFIG_ISSUE_CODES), description: 'The kind of problem (config issue codes in docs/contract.md).' },
        },
      },
    },
  },
};

export function keyOf(route: { method: string; path: string }): string {
  return `${route.method} ${route.path}`;
}

export function openApiDocument(routes: readonly AdminRoute[]): object {
  const docs = { ...ACCESS_GROUP_DOCS, ...ROUTE_DOCS };
  const keys = [...Object.keys(ACCESS_GROUP_DOCS), ...routes.map(keyOf)];
  const paths: Record<string, Record<string, unknown>> = {};
  for (const key of keys) {
    const doc = docs[key];
    if (!doc) continue;
    const [method, path] = key.split(' ') as [string, string];
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const responses: Record<string, unknown> = {
      [String(doc.ok)]:
        doc.ok === 204
          ? { description: 'Done' }
          : { description: 'OK', content: { 'application/json': { schema: SHAPES[key]?.answer ?? obj } } },
      '400': { $ref: '#/components/responses/Failure' },
      '401': { $ref: '#/components/responses/Failure' },
      '403': { $ref: '#/components/responses/Failure' },
      '404': { $ref: '#/components/responses/Failure' },
    };
    for (const status of doc.refusals ?? []) responses[String(status)] = { $ref: '#/components/responses/Failure' };
    // Every body is refused with 422 SECRET_REFERENCE when it holds a ${…} reference (readBody).
    if (doc.body) responses['422'] = { $ref: '#/components/responses/Failure' };
    const role = doc.role ?? 'tenant-admin';
    (paths[path] ??= {})[method.toLowerCase()] = {
      summary: doc.summary,
      description:
        role === 'operator'
          ? 'Role: operator.'
          : `Role: tenant admin of the tenant header's tenant, or operator.${doc.operatorOnly ? ` Operator only: ${doc.operatorOnly}.` : ''}`,
      'x-authpipe-role': role,
      parameters: [
        { $ref: '#/components/parameters/Tenant' },
        ...params,
        ...(doc.ifMatch ? [{ $ref: '#/components/parameters/IfMatch' }] : []),
      ],
      ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: SHAPES[key]?.body ?? doc.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'authpipe admin API',
      version: '1',
      description:
        'On the management listener. Bearer access tokens of an operator (listed in management.operators of the main file; acts on any tenant) or of a tenant admin (a subject in the built-in Admin group of the tenant named in the tenant header; acts on that tenant only). Each operation names its role in x-authpipe-role.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      parameters: {
        Tenant: { name: 'tenant', in: 'header', required: true, schema: { type: 'string' } },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: true,
          schema: { type: 'string' },
          description: 'The ETag of your last GET; 428 without it, 412 when stale.',
        },
      },
      responses: { Failure: { description: 'Refused', content: { 'application/json': { schema: FAILURE } } } },
    },
  };
}
