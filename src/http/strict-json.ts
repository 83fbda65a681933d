import { FORBIDDEN_KEYS, Fail, readString, skipWs, type FlatJsonProblem } from './flat-json.js';

/**
 * JSON of any shape, parsed with the same strictness as the API's flat bodies (it shares
 * flat-json.ts's scanner): a duplicate key anywhere is refused (JSON.parse keeps the last, so
 * `"status":"Failure",…,"status":"Success"` would read as a success), and so are
 * `__proto__`/`constructor`/`prototype` keys, lone surrogates, a byte order mark, and
 * nesting deeper than `maxDepth`. For admin request bodies and upstream adapters' answers.
 */

export class StrictJsonError extends Error {
  constructor(
    readonly problem: FlatJsonProblem | 'too_deep',
    /** JSON pointer of the member at fault ('' for the document). */
    readonly pointer: string,
  ) {
    super(`${problem.replace(/_/g, ' ')}${pointer ? ` at ${pointer}` : ''}`);
    this.name = 'StrictJsonError';
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

export function parseStrictJson(text: string, maxDepth = 32): unknown {
  let i = 0;
  const value = (pointer: string, depth: number): unknown => {
    i = skipWs(text, i);
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const s = readString(text, i);
      i = s.end;
      return s.value;
    }
    if (c === 0x7b || c === 0x5b) {
      if (depth >= maxDepth) throw new StrictJsonError('too_deep', pointer);
      return c === 0x7b ? object(pointer, depth + 1) : array(pointer, depth + 1);
    }
    for (const [word, literal] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return literal;
      }
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(text);
    if (!number) throw new Fail('malformed');
    i += number[0].length;
    return Number(number[0]);
  };
  const object = (pointer: string, depth: number): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    i = skipWs(text, i + 1);
    if (text.charCodeAt(i) === 0x7d) {
      i += 1;
      return result;
    }
    for (;;) {
      if (text.charCodeAt(i) !== 0x22) throw new Fail('malformed');
      const key = readString(text, i);
      const at = `${pointer}/${escapePointer(key.value)}`;
      if (FORBIDDEN_KEYS.has(key.value)) throw new StrictJsonError('forbidden_key', at);
      if (Object.prototype.hasOwnProperty.call(result, key.value)) throw new StrictJsonError('duplicate_key', at);
      i = skipWs(text, key.end);
      if (text.charCodeAt(i) !== 0x3a) throw new Fail('malformed');
      i += 1;
      result[key.value] = value(at, depth);
      i = skipWs(text, i);
      const sep = text.charCodeAt(i);
      i += 1;
      if (sep === 0x7d) return result;
      if (sep !== 0x2c) throw new Fail('malformed');
      i = skipWs(text, i);
    }
  };
  const array = (pointer: string, depth: number): unknown[] => {
    const result: unknown[] = [];
    i = skipWs(text, i + 1);
    if (text.charCodeAt(i) === 0x5d) {
      i += 1;
      return result;
    }
    for (;;) {
      result.push(value(`${pointer}/${result.length}`, depth));
      i = skipWs(text, i);
      const sep = text.charCodeAt(i);
      i += 1;
      if (sep === 0x5d) return result;
      if (sep !== 0x2c) throw new Fail('malformed');
    }
  };
  try {
    const result = value('', 0);
    if (skipWs(text, i) !== text.length) throw new Fail('malformed');
    return result;
  } catch (err) {
    if (err instanceof Fail) throw new StrictJsonError(err.problem, err.property === undefined ? '' : `/${escapePointer(err.property)}`);
    throw err;
  }
}
