/**
 * Request bodies of the config admin API, checked against small schemas compiled once per
 * schema object. What the schema of the file itself checks (a pipe's valves, a user's
 * mobile) is left to the load that every change goes through, which names file and pointer.
 */
import type { ValidateFunction } from 'ajv';
import { AdminError } from './admin-error.js';
import type { ErrorObject } from 'ajv';
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

/** An ajv error in words, for a 400 BAD_BODY (also used by the config admin API's bodies). */
export function describeBodyError(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `unknown property "${String(p.additionalProperty)}"`;
  if (e.keyword === 'required') return `missing required property "${String(p.missingProperty)}"`;
  if (e.keyword === 'enum') return `must be one of ${JSON.stringify(p.allowedValues)}`;
  return e.message ?? e.keyword;
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
