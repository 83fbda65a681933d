/**
 * Request bodies of the admin API: JSON objects of at most 64 KiB, parsed as strictly as the
 * authentication API's bodies (strict-json.ts), then checked against a schema
 * compiled once. A permission on an API or resource the catalogue does not have is named
 * as such (UNKNOWN_RESOURCE, with its pointer and the valid names); anything else that
 * breaks the schema is BAD_BODY with the pointers of every problem. Every admin body of
 * both routers passes here, so a `${…}` secret reference anywhere in one is refused here
 * (SECRET_REFERENCE, secret-references.ts), for every route at once.
 */
import type { IncomingMessage } from 'node:http';
import type { ErrorObject } from 'ajv';
import { newAjv } from '../../engine/registry.js';
import { parseStrictJson, StrictJsonError } from '../../http/strict-json.js';
import { APIS, API_TITLES, RESOURCES, isApi } from '../catalogue.js';
import { GROUP_ID_PATTERN, groupDescriptionSchema, groupNameSchema, permissionsSchema } from '../schema.js';
import { AdminError } from './admin-error.js';
import { refuseSecretReferences } from './secret-references.js';

const MAX_BODY_BYTES = 64 * 1024;
/** ignoreBOM keeps a byte order mark in the text, where the strict parser refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** The parsed body, or undefined when there is none. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new AdminError('PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new AdminError('PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = req.headersDistinct['content-type'];
  if (!type || type.length !== 1 || !JSON_TYPE.test(type[0] as string))
    throw new AdminError('UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
  let text: string;
  try {
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw new AdminError('BAD_BODY', 'the body is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = parseStrictJson(text);
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    throw new AdminError(
      'BAD_BODY',
      `the body is not strict JSON: ${err.message} (duplicate keys, __proto__, a byte order mark and lone surrogates are refused)`,
      err.pointer ? [err.pointer] : [],
    );
  }
  refuseSecretReferences(body);
  return body;
}

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

/** An ajv error in words, for a 400 BAD_BODY (also used by the config admin API's bodies). */
export function describeBodyError(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `unknown property "${String(p.additionalProperty)}"`;
  if (e.keyword === 'required') return `missing required property "${String(p.missingProperty)}"`;
  if (e.keyword === 'enum') return `must be one of ${JSON.stringify(p.allowedValues)}`;
  return e.message ?? e.keyword;
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

/** The JSON pointer an ajv error is about: the member that is unknown or missing, else the instance. */
export function pointerOf(e: ErrorObject): string {
  const extra =
    e.keyword === 'additionalProperties'
      ? `/${String((e.params as { additionalProperty: string }).additionalProperty)}`
      : e.keyword === 'required'
        ? `/${String((e.params as { missingProperty: string }).missingProperty)}`
        : '';
  return e.instancePath + extra || '/';
}
