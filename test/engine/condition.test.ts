import { describe, expect, it } from '@jest/globals';
import { compileCondition, ConditionSyntaxError } from '../../src/engine/condition.js';
import { emptyProps, propsFrom } from '../../src/engine/props.js';
import type { Scope } from '../../src/engine/scope.js';

const scope: Scope = {
  request: propsFrom({ channel: 'pos' }),
  item: emptyProps(),
  session: emptyProps(),
  tenant: { id: 'demo', displayName: 'Demo' },
  operation: 'till-login',
  error: null,
};

describe('json-logic conditions', () => {
  it('evaluates over request, tenant, operation and error', () => {
    expect(compileCondition({ '==': [{ var: 'request.channel' }, 'pos'] })(scope)).toBe(true);
    expect(
      compileCondition({ and: [{ '==': [{ var: 'tenant.id' }, 'demo'] }, { in: [{ var: 'operation' }, ['till-login']] }] })(scope),
    ).toBe(true);
    expect(compileCondition({ '!': [{ var: 'error' }] })(scope)).toBe(true);
    expect(compileCondition({ missing: ['request.username'] })(scope)).toBe(true);
  });

  it('folds constants', () => {
    expect(compileCondition(true)(scope)).toBe(true);
    expect(compileCondition(0)(scope)).toBe(false);
  });

  it.each([
    [{ method: [{ var: 'request.channel' }, 'toUpperCase'] }, /"method"/],
    [{ eval: ['1'] }, /"eval"/],
    [{ '==': [1, 1], '!=': [1, 2] }, /exactly one operator/],
    [{ and: [{ nope: [] }] }, /\/and\/0: unknown or forbidden json-logic operator "nope"/],
  ])('refuses %j at load', (expr, message) => {
    expect(() => compileCondition(expr)).toThrow(ConditionSyntaxError);
    expect(() => compileCondition(expr)).toThrow(message);
  });
});
