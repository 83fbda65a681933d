/**
 * Request bodies of the config admin API, checked against small schemas compiled once per
 * schema object. What the schema of the file itself checks (a pipe's valves, a user's
 * mobile) is left to the load that every change goes through, which names file and pointer.
 */
import type { ValidateFunction } from 'ajv';
import { AdminError } from '../access-groups/admin/admin-error.js';
import { describeBodyError, pointerOf } from '../access-groups/admin/body.js';
import { newAjv } from '../engine/registry.js';

const ajv = newAjv();
const compiled = new WeakMap<object, ValidateFunction>();

/** The body when it is a JSON object matching `schema`, else a 400 BAD_BODY naming every problem. */
export function checkedBody<T>(schema: object, body: unknown): T {
  if (body === undefined) throw new AdminError('BAD_BODY', 'this request needs a JSON object body');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AdminError('BAD_BODY', 'the body must be a JSON object');
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
  if (validate(body)) return body as T;
  const errors = validate.errors ?? [];
  throw new AdminError('BAD_BODY', errors.map((e) => `${pointerOf(e)}: ${describeBodyError(e)}`).join('; '), [
    ...new Set(errors.map(pointerOf)),
  ]);
}
