import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCallContext } from '../../src/engine/context.js';
import { AuthpipeError, refuse } from '../../src/errors.js';
import { systemClock } from '../../src/engine/clock.js';
import type { CompiledPipe, CompiledStep } from '../../src/engine/pipe.js';
import { emptyProps } from '../../src/engine/props.js';
import { runSteps, StepFailure, type StepOutcome } from '../../src/engine/runner.js';
import type { ValveRun } from '../../src/engine/valve.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { emptyDirectory } from '../../src/directory/load.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/** Pipe semantics through real pipes and HTTP: conditions, proceed_on_error, refuse, pipe-call. */
let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['conditional', 'recover', 'outer', 'strict', 'cleanup'] }], {
    conditional: {
      valves: [
        { name: 'property-set', config: { properties: { path: 'default' } } },
        { name: 'property-set', exec_if: { '==': [{ var: 'request.mode' }, 'a'] }, config: { properties: { path: 'a' } } },
        { name: 'property-set', skip_if: { '!=': [{ var: 'request.mode' }, 'b'] }, config: { properties: { path: 'b' } } },
        { name: 'property-set', enabled: false, config: { properties: { path: 'disabled' } } },
      ],
      response: ['path'],
    },
    recover: {
      valves: [
        { name: 'input-validate', id: 'check', proceed_on_error: true, config: { properties: { username: { required: true } } } },
        { name: 'property-set', exec_if: { var: 'error' }, config: { properties: { fallback: '{{error.code}} at {{error.valve}}' } } },
        {
          name: 'refuse',
          exec_if: { '==': [{ var: 'request.fail' }, 'yes'] },
          config: { code: 'ACCESS_DENIED', erroneous_properties: ['fail'] },
        },
      ],
      response: ['fallback'],
    },
    inner: { valves: [{ name: 'property-set', config: { properties: { from_inner: '{{request.username}}' } } }], response: ['never'] },
    outer: {
      valves: [
        { name: 'pipe-call', config: { pipe: 'inner' } },
        { name: 'property-copy', config: { from: 'item', properties: { copied: 'from_inner' } } },
      ],
      response: ['from_inner', 'copied'],
    },
    strict: {
      valves: [
        {
          name: 'input-validate',
          config: { strict: true, properties: { username: { required: true, min_length: 2, max_length: 5, pattern: '^[a-z]+$' } } },
        },
      ],
      response: [],
    },
    cleanup: {
      valves: [
        { name: 'property-copy', config: { properties: ['a', 'b'] } },
        { name: 'property-copy', config: { to: 'session', properties: ['a'] } },
        { name: 'property-remove', config: { properties: ['a'] } },
        { name: 'property-set', config: { properties: { from_session: '{{session.a}}' } } },
      ],
      response: ['b', 'from_session'], // 'a' is removed: the pipe check refuses naming it
    },
  });
  server = await startServer({ configFile: fixture.mainFile });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('conditions', () => {
  it.each([
    [{}, 'default'],
    [{ mode: 'a' }, 'a'],
    [{ mode: 'b' }, 'b'],
  ])('%j takes the %s path; disabled valves never run', async (body, path) => {
    const res = await server.call('conditional', body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ path });
  });
});

describe('proceed_on_error and refuse', () => {
  it('records a swallowed refusal so a later valve can react', async () => {
    const res = await server.call('recover', {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ fallback: 'INVALID_REQUEST at check' });
  });
  it('refuse refuses with its configured code and properties', async () => {
    const res = await server.call('recover', { username: 'x', fail: 'yes' });
    expect(res.status).toBe(403);
    expect(res.body.errorTranslationKeys).toEqual(['ACCESS_DENIED']);
    expect(res.body.erroneousProperties).toEqual(['fail']);
  });
});

describe('pipe-call', () => {
  it('runs the inner pipe on the same flow; only the outer response answers', async () => {
    const res = await server.call('outer', { username: 'till-7' });
    expect(res.body).toEqual({ from_inner: 'till-7', copied: 'till-7' });
  });
});

describe('input-validate', () => {
  it.each([
    [{ username: 'abc' }, 200, undefined],
    [{}, 403, ['username']],
    [{ username: 'a' }, 403, ['username']],
    [{ username: 'abcdef' }, 403, ['username']],
    [{ username: 'ab1' }, 403, ['username']],
    [{ username: 'abc', other: 'x', more: 'y' }, 403, ['other', 'more']],
  ])('%j answers %d', async (body, status, erroneous) => {
    const res = await server.call('strict', body);
    expect(res.status).toBe(status);
    if (erroneous) expect(res.body.erroneousProperties).toEqual(erroneous);
  });
});

describe('properties', () => {
  it('copies to session, removes from the item, and answers only what is present', async () => {
    const res = await server.call('cleanup', { a: '1', b: '2' });
    expect(res.body).toEqual({ b: '2', from_session: '1' });
  });
});

describe('runSteps', () => {
  const store = new MemoryStore(systemClock);
  const step = (label: string, run: ValveRun, proceedOnError = false): CompiledStep => ({
    index: 0,
    valve: 'test',
    label,
    run,
    execIf: null,
    skipIf: null,
    proceedOnError,
  });
  const ctxFor = (outcomes: StepOutcome[]) =>
    createCallContext(
      {
        requestId: 'r',
        tenant: { id: 't', displayName: 't' },
        operation: 'op',
        body: emptyProps(),
        clientIp: '127.0.0.1',
        headers: {},
        observer: { stepEnd: (_p, _s, _c, outcome) => outcomes.push(outcome) },
      },
      { store, clock: systemClock, logger: silentLogger(), configDir: '.', env: {}, directory: emptyDirectory() },
      silentLogger(),
    );
  const pipe = (steps: CompiledStep[]): CompiledPipe => ({ id: 'p', description: '', file: 'p.json', steps, response: [] });

  afterAll(() => store.close());

  it('turns anything a valve throws that is not coded into an INTERNAL_ERROR fault, even with proceed_on_error', async () => {
    const outcomes: StepOutcome[] = [];
    const failure = await runSteps(
      pipe([
        step(
          'boom',
          () => {
            throw new TypeError('bug');
          },
          true,
        ),
      ]),
      ctxFor(outcomes),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StepFailure);
    expect((failure as StepFailure).error.code).toBe('INTERNAL_ERROR');
    expect((failure as StepFailure).step).toBe('boom');
    expect(outcomes).toEqual(['fault']);
  });

  it('never lets proceed_on_error swallow a 500-coded error', async () => {
    const outcomes: StepOutcome[] = [];
    const failure = await runSteps(
      pipe([
        step(
          'store',
          async () => {
            throw new AuthpipeError('COMMUNICATION_ERROR');
          },
          true,
        ),
      ]),
      ctxFor(outcomes),
    ).catch((e: unknown) => e);
    expect((failure as StepFailure).error.code).toBe('COMMUNICATION_ERROR');
  });

  it('captures no stack for a refusal, and keeps the stacks of a fault and of what caused it', async () => {
    const framesOf = (err: Error) => (err.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).length;
    const refused = (await runSteps(
      pipe([
        step('limit', () => {
          throw refuse('RATE_LIMITED', { detail: 'over the limit' });
        }),
      ]),
      ctxFor([]),
    ).catch((e: unknown) => e)) as StepFailure;
    expect(refused.error.code).toBe('RATE_LIMITED');
    expect(refused.error.message).toBe('RATE_LIMITED: over the limit');
    expect(framesOf(refused.error)).toBe(0);
    expect(framesOf(refused)).toBe(0);
    const faulted = (await runSteps(
      pipe([
        step('boom', () => {
          throw new TypeError('bug');
        }),
      ]),
      ctxFor([]),
    ).catch((e: unknown) => e)) as StepFailure;
    expect(faulted.error.code).toBe('INTERNAL_ERROR');
    expect(framesOf(faulted.error)).toBeGreaterThan(0);
    expect(framesOf(faulted.error.cause as Error)).toBeGreaterThan(0);
    // Stack capture is back to normal for everything else.
    expect(framesOf(new Error('after'))).toBeGreaterThan(0);
  });

  it('reports each step outcome to the observer', async () => {
    const outcomes: StepOutcome[] = [];
    const ctx = ctxFor(outcomes);
    await runSteps(
      pipe([
        step('a', () => undefined),
        step(
          'b',
          () => {
            throw refuse('ACCESS_DENIED');
          },
          true,
        ),
        step('c', async () => undefined),
      ]),
      ctx,
    );
    expect(outcomes).toEqual(['ran', 'proceeded', 'ran']);
    expect(ctx.error).toEqual({ code: 'ACCESS_DENIED', valve: 'b' });
  });
});
