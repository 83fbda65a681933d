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
  '==',
  '===',
  '!=',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!',
  '!!',
  'or',
  'and',
  'if',
  '?:',
  'var',
  'missing',
  'missing_some',
  'in',
  'cat',
  'substr',
  '+',
  '-',
  '*',
  '/',
  '%',
  'min',
  'max',
  'merge',
  'map',
  'filter',
  'reduce',
  'all',
  'none',
  'some',
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

/** The truth of a rule that reads nothing (`false`, `0`, `"x"`), or undefined when it depends on the call. */
export function constantTruth(expr: unknown): boolean | undefined {
  return expr === null || typeof expr !== 'object' ? jsonLogic.truthy(expr) : undefined;
}

/** A `var` a condition reads: its dotted path, and whether the rule gives a default for it. */
export interface ConditionVar {
  path: string;
  hasDefault: boolean;
}

/**
 * The data paths a rule reads through `var`, for the load-time pipe check. Paths inside the
 * per-element logic of map, filter, reduce, all, none and some name the element, not the
 * call's data, and are left out; so are computed paths.
 */
export function conditionVars(expr: unknown): ConditionVar[] {
  const out: ConditionVar[] = [];
  const walk = (e: unknown): void => {
    if (Array.isArray(e)) return e.forEach(walk);
    if (e === null || typeof e !== 'object') return;
    const [op, args] = Object.entries(e)[0] ?? [];
    if (op === undefined) return;
    if (op === 'var') {
      const list = Array.isArray(args) ? args : [args];
      if (typeof list[0] === 'string' && list[0] !== '') out.push({ path: list[0], hasDefault: list.length > 1 });
      else if (typeof list[0] === 'number') out.push({ path: String(list[0]), hasDefault: list.length > 1 });
      else walk(list);
      return;
    }
    if (ELEMENT_OPERATORS.has(op) && Array.isArray(args)) return walk(args[0]);
    walk(args);
  };
  walk(expr);
  return out;
}

const ELEMENT_OPERATORS: ReadonlySet<string> = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);
