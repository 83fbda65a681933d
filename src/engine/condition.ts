import jsonLogic from 'json-logic-js';
import type { Scope } from './scope.js';

/**
 * json-logic conditions (`exec_if`, `skip_if`). This is the only file that imports
 * json-logic-js. Expressions are checked once at load: every operator must be a known,
 * side-effect-free one. `method` is refused because it calls arbitrary methods on data.
 */
export type Condition = (scope: Scope) => boolean;

export class ConditionSyntaxError extends Error {}

const OPERATORS: ReadonlySet<string> = new Set([
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!', '!!', 'or', 'and', 'if', '?:',
  'var', 'missing', 'missing_some', 'in', 'cat', 'substr', '+', '-', '*', '/', '%',
  'min', 'max', 'merge', 'map', 'filter', 'reduce', 'all', 'none', 'some',
]);

export function compileCondition(expr: unknown): Condition {
  check(expr, '');
  // A constant needs no evaluation per call.
  if (expr === null || typeof expr !== 'object') {
    const constant = jsonLogic.truthy(expr);
    return () => constant;
  }
  const logic = expr as jsonLogic.RulesLogic;
  return (scope) => jsonLogic.truthy(jsonLogic.apply(logic, scope as unknown as Record<string, unknown>));
}

function check(expr: unknown, at: string): void {
  if (Array.isArray(expr)) {
    expr.forEach((e, i) => check(e, `${at}/${i}`));
    return;
  }
  if (expr === null || typeof expr !== 'object') return;
  const keys = Object.keys(expr);
  if (keys.length !== 1) throw new ConditionSyntaxError(`${at || '/'}: a json-logic rule has exactly one operator; found ${keys.length}`);
  const op = keys[0] as string;
  if (!OPERATORS.has(op)) throw new ConditionSyntaxError(`${at || '/'}: unknown or forbidden json-logic operator "${op}"`);
  check((expr as Record<string, unknown>)[op], `${at}/${op.replace(/~/g, '~0').replace(/\//g, '~1')}`);
}
