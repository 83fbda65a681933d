/**
 * The access-groups API's request bodies (read by the admin core, src/admin/read-body.ts),
 * checked against a schema compiled once. A permission on an API or resource that does not exist
 * (resources.ts) is named as such (UNKNOWN_RESOURCE, with its pointer and the valid names);
 * anything else that breaks the schema is BAD_BODY with the pointers of every problem.
 */
import type { ErrorObject } from 'ajv';
import { newAjv } from '../../engine/registry.js';
import { APIS, API_TITLES, RESOURCES, isApi } from '../resources.js';
import { GROUP_ID_PATTERN, groupDescriptionSchema, groupNameSchema, permissionsSchema } from '../schema.js';
import { AdminError } from '../../admin/admin-error.js';
import { describeBodyError, pointerOf } from '../../admin/bodies.js';

const ajv = newAjv();
const storeId = { type: 'string', minLength: 1, maxLength: 128 };
const storeList = { type: 'array', maxItems: 1000, uniqueItems: true, items: storeId };
const groupRef = { anyOf: [{ type: 'string', pattern: GROUP_ID_PATTERN }, { type: 'null' }] };
const moveList = {
  type: 'array',
  maxItems: 1000,
  items: {
    anyOf: [
      storeId,
      { type: 'object', additionalProperties: false, required: ['store', 'from'], properties: { store: storeId, from: groupRef } },
    ],
  },
};

const bodySchemas = {
  create: ajv.compile({
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      id: { type: 'string', pattern: GROUP_ID_PATTERN },
      name: groupNameSchema,
      description: groupDescriptionSchema,
      permissions: permissionsSchema,
    },
  }),
  edit: ajv.compile({
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { name: groupNameSchema, description: groupDescriptionSchema, permissions: permissionsSchema },
  }),
  default: ajv.compile({
    type: 'object',
    additionalProperties: false,
    required: ['group'],
    properties: { group: groupRef },
  }),
  stores: ajv.compile({
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { add: moveList, remove: storeList },
  }),
};

export type BodyKind = keyof typeof bodySchemas;

function unknownPermission(e: ErrorObject): string | null {
  if (e.keyword !== 'additionalProperties') return null;
  const name = String((e.params as { additionalProperty: string }).additionalProperty);
  if (e.instancePath === '/permissions') return `unknown API "${name}" in permissions; expected ${APIS.join(' or ')}`;
  const api = /^\/permissions\/([^/]+)$/.exec(e.instancePath)?.[1];
  if (api && isApi(api)) return `unknown resource "${name}" in the ${API_TITLES[api]}; expected one of: ${RESOURCES[api].join(', ')}`;
  return null;
}

/** The body checked against its schema, or a refusal naming every problem. */
export function checkBody<T>(kind: BodyKind, body: unknown): T {
  if (body === undefined) throw new AdminError('BAD_BODY', 'this request needs a JSON object body');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AdminError('BAD_BODY', 'the body must be a JSON object');
  const validate = bodySchemas[kind];
  if (validate(body)) return body as T;
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'anyOf');
  const unknown = errors.map((e) => [e, unknownPermission(e)] as const).filter(([, m]) => m !== null);
  if (unknown.length > 0) {
    throw new AdminError('UNKNOWN_RESOURCE', unknown.map(([, m]) => m).join('; '), [...new Set(unknown.map(([e]) => pointerOf(e)))]);
  }
  throw new AdminError('BAD_BODY', errors.map((e) => `${e.instancePath || '/'}: ${describeBodyError(e)}`).join('; '), [
    ...new Set(errors.map(pointerOf)),
  ]);
}
