import { emptyProps, hasProp, type Props } from '../engine/props.js';

/**
 * A strict parser for the only body the contract accepts: one flat JSON object whose values
 * are all strings. It is stricter than JSON.parse on purpose:
 * - nested objects, arrays, numbers, booleans and null are refused at the first one seen, so
 *   5,000 levels of nesting cost nothing;
 * - a duplicate key is refused (JSON.parse keeps the last, other parsers the first: a parser
 *   differential an attacker can use);
 * - `__proto__`, `constructor` and `prototype` keys are refused, and the result has a null
 *   prototype, so nothing a caller sends can reach Object.prototype;
 * - the number of properties and the length of each value are bounded;
 * - strings with lone surrogates (which do not survive UTF-8) are refused.
 * Escapes are decoded by JSON.parse on the string token alone, so decoding is exactly JSON's.
 */

export type FlatJsonProblem =
  | 'not_an_object'
  | 'malformed'
  | 'nested'
  | 'not_a_string'
  | 'duplicate_key'
  | 'forbidden_key'
  | 'too_many_properties'
  | 'value_too_long'
  | 'bad_key';

export type FlatJsonResult = { ok: true; props: Props } | { ok: false; problem: FlatJsonProblem; property?: string };

export interface FlatJsonLimits {
  maxProperties: number;
  maxValueLength: number;
  /** Keys refused because something else owns them (the engine's own request names). */
  reserved?: ReadonlySet<string>;
}

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_KEY_LENGTH = 128;

/** Thrown by the shared scanning core (also used by strict-json.ts). */
export class Fail {
  constructor(
    readonly problem: FlatJsonProblem,
    readonly property?: string,
  ) {}
}

export function parseFlatJson(text: string, limits: FlatJsonLimits): FlatJsonResult {
  try {
    return { ok: true, props: parse(text, limits) };
  } catch (err) {
    if (err instanceof Fail)
      return err.property === undefined ? { ok: false, problem: err.problem } : { ok: false, problem: err.problem, property: err.property };
    throw err;
  }
}

function parse(text: string, limits: FlatJsonLimits): Props {
  const props = emptyProps();
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b /* { */)
    throw new Fail(i >= text.length ? 'malformed' : isJsonValueStart(text, i) ? 'not_an_object' : 'malformed');
  i = skipWs(text, i + 1);
  let count = 0;
  if (text.charCodeAt(i) === 0x7d /* } */) {
    i += 1;
  } else {
    for (;;) {
      if (text.charCodeAt(i) !== 0x22 /* " */) throw new Fail('malformed');
      const key = readString(text, i);
      i = skipWs(text, key.end);
      if (text.charCodeAt(i) !== 0x3a /* : */) throw new Fail('malformed');
      i = skipWs(text, i + 1);
      const c = text.charCodeAt(i);
      if (c === 0x7b || c === 0x5b) throw new Fail('nested', key.value);
      if (c !== 0x22) throw new Fail(isJsonValueStart(text, i) ? 'not_a_string' : 'malformed', key.value);
      const value = readString(text, i);
      checkKey(key.value, props, limits);
      if (value.value.length > limits.maxValueLength) throw new Fail('value_too_long', key.value);
      if (++count > limits.maxProperties) throw new Fail('too_many_properties');
      props[key.value] = value.value;
      i = skipWs(text, value.end);
      const sep = text.charCodeAt(i);
      if (sep === 0x2c /* , */) {
        i = skipWs(text, i + 1);
        continue;
      }
      if (sep === 0x7d) {
        i += 1;
        break;
      }
      throw new Fail('malformed');
    }
  }
  if (skipWs(text, i) !== text.length) throw new Fail('malformed');
  return props;
}

function checkKey(key: string, props: Props, limits: FlatJsonLimits): void {
  if (FORBIDDEN_KEYS.has(key)) throw new Fail('forbidden_key', key);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || (limits.reserved?.has(key) ?? false))
    throw new Fail('bad_key', key.slice(0, MAX_KEY_LENGTH));
  if (hasProp(props, key)) throw new Fail('duplicate_key', key);
}

export function skipWs(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i += 1;
    else return i;
  }
}

/** Reads the JSON string token starting at the quote at `start`. */
export function readString(text: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let escaped = false;
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c) || c < 0x20) throw new Fail('malformed');
    if (c === 0x22) break;
    if (c === 0x5c /* \ */) {
      escaped = true;
      i += 2;
      continue;
    }
    i += 1;
  }
  const end = i + 1;
  let value: string;
  if (escaped) {
    try {
      value = JSON.parse(text.slice(start, end)) as string;
    } catch {
      throw new Fail('malformed');
    }
  } else {
    value = text.slice(start + 1, i);
  }
  if (!value.isWellFormed()) throw new Fail('malformed');
  return { value, end };
}

function isJsonValueStart(text: string, i: number): boolean {
  const c = text[i] ?? '';
  return (
    c === '"' ||
    c === '[' ||
    c === '-' ||
    (c >= '0' && c <= '9') ||
    text.startsWith('true', i) ||
    text.startsWith('false', i) ||
    text.startsWith('null', i)
  );
}
