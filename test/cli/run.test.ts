import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { run } from '../../src/cli/run.js';
import { dryRun } from '../../src/cli/dry-run.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import type { CompiledPipe } from '../../src/engine/pipe.js';
import { silentLogger } from '../../src/logger.js';
import { formatTrace } from '../../src/observe/trace-format.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { runCli } from '../support/cli.js';
import { ConfigFixture } from '../support/fixture.js';
import { LOGIN_PIPES } from '../support/pipes.js';

const SECRET = 'correct-horse-battery';
let fixture: ConfigFixture;
let config: LoadedConfig;
const store = new MemoryStore(systemClock);

beforeAll(() => {
  fixture = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['login'] }], LOGIN_PIPES);
  config = loadConfig(fixture.mainFile, {
    registry: createRegistry(),
    runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
  });
});
afterAll(async () => {
  await store.close();
  fixture.cleanup();
});

/** `authpipe run …` on the fixture, in this process (see test/support/cli.ts). */
const cli = (args: string[]) => runCli(['run', ...args, '--config', fixture.mainFile]);

describe('dry run trace', () => {
  it('records every step: ran or skipped and why, changes, outcome and time', async () => {
    const result = await dryRun(config, {
      operation: 'login',
      tenant: 'demo',
      data: JSON.stringify({ username: 'till-001', password: SECRET }),
      trace: true,
    });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ username: 'till-001', stage: 'final', group: 'tills' });
    const steps = result.trace!.steps;
    expect(steps.map((s) => [s.pipe, s.depth, s.label, s.outcome])).toEqual([
      ['login', 0, '0:input-validate', 'ran'],
      ['login', 0, '1:property-copy', 'ran'],
      ['login', 0, 'otp-branch', 'skipped'],
      ['login', 0, '3:property-set', 'ran'],
      ['login', 0, '4:property-set', 'ran'],
      ['login', 0, '5:property-set', 'ran'],
      ['login', 0, '6:property-remove', 'ran'],
      ['login', 0, '7:pipe-call', 'ran'],
      ['shared', 1, 'set-group', 'ran'],
      ['login', 0, 'deny', 'skipped'],
    ]);
    expect(steps[2]).toMatchObject({ reason: 'exec_if is false', condition: { '==': [{ var: 'request.mode' }, 'otp'] } });
    expect(steps[9]).toMatchObject({ reason: 'skip_if is true', condition: { '!=': [{ var: 'request.username' }, 'blocked'] } });
    expect(steps[1]!.changes).toEqual([
      { scope: 'item', name: 'username', op: 'added', value: 'till-001' },
      { scope: 'item', name: 'password', op: 'added', value: '***' },
    ]);
    // A secret copied under an innocent name is still masked.
    expect(steps[3]!.changes).toEqual([
      { scope: 'item', name: 'stage', op: 'added', value: 'checked' },
      { scope: 'item', name: 'pw_copy', op: 'added', value: '***' },
    ]);
    expect(steps[4]!.changes).toEqual([{ scope: 'item', name: 'stage', op: 'changed', value: 'final', previous: 'checked' }]);
    expect(steps[5]!.changes).toEqual([{ scope: 'session', name: 'seen', op: 'added', value: 'till-001' }]);
    expect(steps[6]!.changes).toEqual([{ scope: 'item', name: 'password', op: 'removed' }]);
    // The pipe-call step shows what the called pipe did, and so does the nested step.
    expect(steps[7]!.changes).toEqual([{ scope: 'item', name: 'group', op: 'added', value: 'tills' }]);
    expect(steps[8]!.changes).toEqual(steps[7]!.changes);
    for (const s of steps) expect(s.ms).toBeGreaterThanOrEqual(0);
    expect(result.trace!.request.password).toBe('***');
    expect(JSON.stringify(result.trace)).not.toContain(SECRET);
  });

  it('records a refusal with its code and detail, and the step that raised it', async () => {
    const result = await dryRun(config, {
      operation: 'login',
      tenant: 'demo',
      data: JSON.stringify({ username: 'blocked', password: SECRET }),
      trace: true,
    });
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ status: 'Failure', errorTranslationKeys: ['ACCESS_DENIED'] });
    const last = result.trace!.steps.at(-1)!;
    expect(last).toMatchObject({ label: 'deny', outcome: 'refused', code: 'ACCESS_DENIED', detail: 'user is blocked' });
    expect(result.trace).toMatchObject({ status: 403, code: 'ACCESS_DENIED' });
  });

  it('marks a pipe-call step whose called pipe failed', async () => {
    const nested = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['outer'] }], {
      outer: { valves: [{ name: 'pipe-call', config: { pipe: 'inner' } }] },
      inner: { valves: [{ name: 'refuse', config: { code: 'INVALID_CREDENTIALS' } }] },
    });
    const failing = loadConfig(nested.mainFile, {
      registry: createRegistry(),
      runtime: () => ({ store, clock: systemClock, logger: silentLogger() }),
    });
    nested.cleanup();
    const result = await dryRun(failing, { operation: 'outer', tenant: 'demo', data: '{}', trace: true });
    expect(result.status).toBe(403);
    expect(result.trace!.steps.map((s) => [s.pipe, s.outcome, s.code])).toEqual([
      ['outer', 'failed-inside', 'INVALID_CREDENTIALS'],
      ['inner', 'refused', 'INVALID_CREDENTIALS'],
    ]);
  });

  it('answers 500 for a valve that throws, with the fault kept for the admin', async () => {
    const broken: CompiledPipe = {
      id: 'login',
      description: '',
      file: 'test',
      response: [],
      steps: [
        {
          index: 0,
          valve: 'buggy',
          label: '0:buggy',
          proceedOnError: false,
          execIf: null,
          skipIf: null,
          run: () => {
            throw new TypeError('boom');
          },
        },
      ],
    };
    const result = await dryRun(
      // Every door runs the tenant's view of the pipes.
      {
        ...config,
        listeners: config.listeners.map((l) => ({
          ...l,
          tenants: new Map([...l.tenants].map(([id, t]) => [id, { ...t, pipes: new Map([...t.pipes, ['login', broken]]) }])),
        })),
      },
      { operation: 'login', tenant: 'demo', data: '{}', trace: true },
    );
    expect(result.status).toBe(500);
    expect(result.body).toMatchObject({ errorTranslationKeys: ['INTERNAL_ERROR'] });
    expect(result.error?.detail).toBe('boom');
    expect(result.trace!.steps[0]).toMatchObject({ outcome: 'fault', code: 'INTERNAL_ERROR' });
  });

  it('applies the HTTP checks to tenant, operation and body', async () => {
    const cases: [Partial<Parameters<typeof dryRun>[1]>, string][] = [
      [{ tenant: 'nobody' }, 'UNKNOWN_TENANT'],
      [{ operation: 'shared' }, 'OPERATION_NOT_ALLOWED'],
      [{ operation: '../login' }, 'OPERATION_NOT_ALLOWED'],
      [{ data: '{"username":{"nested":"x"}}' }, 'INVALID_REQUEST'],
      [{ data: '{"username":"a","username":"b"}' }, 'INVALID_REQUEST'],
      [{ data: '{"tenant":"other","username":"a"}' }, 'INVALID_REQUEST'],
      [{ data: '[1]' }, 'INVALID_REQUEST'],
      [{ data: `{"username":"${'x'.repeat(20000)}"}` }, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [override, code] of cases) {
      const result = await dryRun(config, { operation: 'login', tenant: 'demo', data: '{"username":"a"}', ...override });
      expect([override, result.status, result.body.errorTranslationKeys]).toEqual([override, 403, [code]]);
    }
  });
});

describe('authpipe run', () => {
  it('prints the trace and the answer, exit 0 on 200', async () => {
    const { code, out } = await cli([
      'login',
      '--tenant',
      'demo',
      '--data',
      JSON.stringify({ username: 'till-001', password: SECRET }),
      '--header',
      'X-Till=7',
      '--trace',
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/#2 otp-branch \(refuse\)\s+skipped\s+exec_if is false: \{"==":\[\{"var":"request.mode"\},"otp"\]\}/);
    expect(out).toMatch(/\+ item\.username = "till-001"/);
    expect(out).toMatch(/~ item\.stage = "final" \(was "checked"\)/);
    expect(out).toMatch(/- item\.password/);
    expect(out).toMatch(/shared\/#0 set-group \(property-set\)\s+ran\s+\d+\.\d{3} ms/);
    expect(out).toContain('200 {"username":"till-001","stage":"final","group":"tills"}');
    expect(out).not.toContain(SECRET);
  });

  it('exits 3 on a refusal and names the refusing step', async () => {
    const { code, out, err } = await cli(['login', '--tenant', 'demo', '--data', '{"username":"blocked"}', '--trace']);
    expect(code).toBe(3);
    expect(out).toMatch(/#8 deny \(refuse\)\s+refused\s+\d+\.\d{3} ms\s+ACCESS_DENIED: user is blocked/);
    expect(out).toMatch(/^403 \{"status":"Failure","errorTranslationKeys":\["ACCESS_DENIED"\]/m);
    expect(err).toContain('refused: ACCESS_DENIED: user is blocked');
  });

  it('prints one JSON document with --json', async () => {
    const { code, out } = await cli(['login', '--tenant', 'demo', '--data', '{"username":"till-9"}', '--json', '--trace']);
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc).toMatchObject({ status: 200, body: { username: 'till-9', stage: 'final' } });
    expect(doc.trace.steps).toHaveLength(10);
  });

  it('exits 2 on usage errors and 1 on an invalid config', async () => {
    expect((await cli(['login'])).code).toBe(2);
    expect((await cli(['login', '--tenant', 'demo', '--header', 'novalue'])).code).toBe(2);
    expect((await cli(['login', '--tenant', 'demo', '--bogus'])).code).toBe(2);
    const bad = ConfigFixture.minimal([{ id: 'demo', allowedOperation: ['nope'] }], {});
    const out: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((c: string) => out.push(String(c)) > 0) as typeof process.stderr.write;
    try {
      expect(await run.run(['nope', '--tenant', 'demo', '--config', bad.mainFile])).toBe(1);
    } finally {
      process.stderr.write = write;
      bad.cleanup();
    }
    expect(out.join('')).toMatch(/authpipe\.json: \/modules\/0\/config\/tenant\/0\/allowedOperation\/0: operation "nope" has no pipe/);
  });

  it('formats the trace of a call refused before its pipe', async () => {
    const result = await dryRun(config, { operation: 'login', tenant: 'nobody', data: '{}', trace: true });
    expect(formatTrace(result.trace!)).toContain('answer 403 UNKNOWN_TENANT');
  });
});
