import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../support/cli.js';
import { ConfigFixture } from '../support/fixture.js';

/**
 * The pipe check through `authpipe validate` (in this process, through cli/main.ts as the
 * shell would run it), on temp copies of the demo: each mistake an admin makes is printed
 * with its file, pointer, property and the valves that set it or something like it. The
 * shipped demo has none.
 */
async function validate(configFile: string): Promise<{ code: number | undefined; lines: string[] }> {
  const { code, out } = await runCli(['validate', '--config', configFile]);
  return { code, lines: out.split('\n').filter((l) => l !== '') };
}

function pipeOf(fixture: ConfigFixture, id: string): any {
  return JSON.parse(readFileSync(join(fixture.dir, 'pipes', `${id}.json`), 'utf8'));
}

/** A demo copy with the file modes a deployment should have: file-mode warnings are another check's business. */
function demoCopy(): ConfigFixture {
  const fixture = ConfigFixture.fromDemo();
  chmodSync(join(fixture.dir, 'config', 'directory.json'), 0o600);
  chmodSync(join(fixture.dir, 'config', 'secrets', 'alice.totp'), 0o600);
  chmodSync(join(fixture.dir, 'config', 'secrets', 'upstream-client.secret'), 0o600);
  return fixture;
}

/** The one line about `file` at `pointer`; fails when there is none or several. */
function lineAt(lines: string[], file: string, pointer: string): string {
  const found = lines.filter((l) => l.includes(`pipes/${file}.json: ${pointer}: `));
  expect(found).toHaveLength(1);
  return found[0] as string;
}

describe('authpipe validate: the shipped demo', () => {
  it('is valid with no pipe-check warnings', async () => {
    const fixture = demoCopy();
    try {
      const result = await validate(fixture.mainFile);
      expect(result.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
      expect(result.code).toBe(0);
      expect(result.lines.at(-1)).toMatch(/valid \(version [0-9a-f]{12}, \d+ pipes\)$/);
    } finally {
      fixture.cleanup();
    }
  });
});

describe('authpipe validate: every kind of pipe-check error, with its pointer', () => {
  let fixture: ConfigFixture;
  let result: { code: number | undefined; lines: string[] };

  beforeAll(async () => {
    fixture = ConfigFixture.fromDemo();
    // 3 (before 1 edits the pipe it copies). An OTP pipe whose user lookup can never match (a store id looked up as a mobile).
    const lookup = pipeOf(fixture, 'till-approval-start');
    lookup.id = 'approval-by-mobile';
    lookup.valves[1].config.user_by = 'mobile';
    lookup.valves[2].config.continue_with = ['till-approval-verify'];
    fixture.writePipe('approval-by-mobile', lookup);
    // 1. The typo in a template.
    const typo = pipeOf(fixture, 'till-approval-start');
    typo.valves[1].config.user = '{{item.stor}}';
    fixture.writePipe('till-approval-start', typo);
    // 2. A response naming something nothing sets.
    const login = pipeOf(fixture, 'till-login');
    login.response.push('acces_token');
    fixture.writePipe('till-login', login);
    // 4. A json-logic var nothing sets, and one outside the data.
    fixture.writePipe('cond-typo', {
      valves: [
        { name: 'basic-auth', config: { kind: 'till' } },
        { name: 'refuse', config: { code: 'ACCESS_DENIED' }, exec_if: { '!=': [{ var: 'item.kindd' }, 'till'] } },
        { name: 'refuse', config: { code: 'ACCESS_DENIED' }, skip_if: { '==': [{ var: 'username' }, 'x'] } },
      ],
      response: ['sub'],
    });
    // 5. Unreachable valves: after an unconditional refuse, and behind a constant exec_if.
    fixture.writePipe('dead-end', {
      valves: [
        { name: 'property-set', config: { properties: { a: 'b' } }, exec_if: false },
        { name: 'refuse', config: { code: 'ACCESS_DENIED' } },
        { name: 'property-set', config: { properties: { c: 'd' } } },
      ],
      response: [],
    });
    // 6. A called pipe reading what its caller never set (reported in the callee, naming the caller).
    fixture.writePipe('needs-store', {
      valves: [{ name: 'property-set', config: { properties: { where: '{{item.store}}' } } }],
      response: [],
    });
    fixture.writePipe('calls-needs-store', { valves: [{ name: 'pipe-call', config: { pipe: 'needs-store' } }], response: ['where'] });
    // 7. A request property a strict input-validate rules out; error.code with nothing proceeding.
    fixture.writePipe('strict-request', {
      valves: [
        { name: 'input-validate', config: { properties: { username: { required: true } }, strict: true } },
        { name: 'property-set', config: { properties: { m: '{{request.mobile}}', e: '{{error.code}}' } } },
      ],
      response: ['m'],
    });
    // 8. Flow links: a restore nothing saves for, a continue_with naming no pipe.
    fixture.writePipe('orphan-restore', { valves: [{ name: 'flow-restore' }], response: [] });
    fixture.writePipe('save-nowhere', {
      valves: [
        { name: 'basic-auth', config: { kind: 'till' } },
        { name: 'flow-save', config: { properties: ['sub', 'stor'], continue_with: ['no-such-op'] } },
      ],
      response: ['flow_id'],
    });
    result = await validate(fixture.mainFile);
  });
  afterAll(() => fixture.cleanup());

  it('exits 1', () => {
    expect(result.code).toBe(1);
  });

  it('a template reading an item property nothing sets, with the likely meant one and its setter', () => {
    const line = lineAt(result.lines, 'till-approval-start', '/valves/1/config/user');
    expect(line).toContain('reads item.stor, which no earlier valve sets');
    expect(line).toContain('did you mean item.store (set by basic-auth at /valves/0)');
    expect(line).toContain('"sets": ["item.stor"]');
  });

  it('a response name nothing sets', () => {
    const line = lineAt(result.lines, 'till-login', `/response/${pipeOf(fixture, 'till-login').response.length - 1}`);
    expect(line).toContain('names "acces_token", which no valve of this pipe sets');
    const mint = pipeOf(fixture, 'till-login').valves.findIndex((v: { name: string }) => v.name === 'token-mint');
    expect(line).toContain(`item.access_token (set by token-mint at /valves/${mint})`);
  });

  it('a user lookup that can never match', () => {
    const line = lineAt(result.lines, 'approval-by-mobile', '/valves/1/config/user');
    expect(line).toContain('looks a user up by user mobile with "{{item.store}}", which basic-auth at /valves/0 sets to a store id');
  });

  it('json-logic vars: a property nothing sets, and a name outside the data', () => {
    expect(lineAt(result.lines, 'cond-typo', '/valves/1/exec_if')).toContain(
      'its condition reads "item.kindd", which no earlier valve sets; did you mean item.kind',
    );
    expect(lineAt(result.lines, 'cond-typo', '/valves/2/skip_if')).toContain('its condition reads "username", which is not in the data');
  });

  it('valves that never run', () => {
    expect(lineAt(result.lines, 'dead-end', '/valves/0')).toContain('property-set never runs: its exec_if is always false');
    expect(lineAt(result.lines, 'dead-end', '/valves/2')).toContain(
      'property-set is unreachable: refuse at /valves/1 always refuses before it',
    );
  });

  it('inside a called pipe, naming the caller', () => {
    const line = lineAt(result.lines, 'needs-store', '/valves/0/config/properties/where');
    expect(line).toContain('reads item.store, which no earlier valve sets');
    expect(line).toContain('(when calls-needs-store calls it at /valves/0)');
  });

  it('a request property a strict input-validate rules out, and error.code with nothing proceeding', () => {
    const lines = result.lines.filter((l) => l.includes('pipes/strict-request.json: /valves/1/config/properties/'));
    expect(lines.find((l) => l.includes('/properties/m:'))).toContain(
      'reads request.mobile, but input-validate at /valves/0 is strict and allows only username',
    );
    expect(lines.find((l) => l.includes('/properties/e:'))).toContain('no earlier valve has proceed_on_error');
  });

  it('flow links: a restore nothing saves for, a save of an unset property, a continue_with naming no pipe', () => {
    expect(lineAt(result.lines, 'orphan-restore', '/valves/0')).toContain('no flow-save lists operation "orphan-restore" in continue_with');
    expect(lineAt(result.lines, 'save-nowhere', '/valves/1/config/properties/1')).toContain('saves item.stor, which no earlier valve sets');
    expect(lineAt(result.lines, 'save-nowhere', '/valves/1/config/continue_with/0')).toContain(
      'names operation "no-such-op", which has no pipe',
    );
  });
});

describe('authpipe validate: warnings and declarations', () => {
  let fixture: ConfigFixture;
  afterAll(() => fixture.cleanup());

  it('a property set only behind exec_if is a warning; a "sets" declaration satisfies the check', async () => {
    fixture = demoCopy();
    fixture.writePipe('maybe-set', {
      valves: [
        { name: 'property-set', config: { properties: { greeting: 'hi' } }, exec_if: { '==': [{ var: 'request.lang' }, 'en'] } },
        { name: 'property-set', config: { properties: { message: '{{item.greeting}} {{request.name}}' } } },
        { name: 'rate-limit', config: { key: '{{request.client_ip}}', limit: 10, window_seconds: 60 }, sets: ['item.tier'] },
        { name: 'property-set', config: { properties: { level: '{{item.tier}}' } } },
      ],
      response: ['message', 'greeting', 'level'],
    });
    const result = await validate(fixture.mainFile);
    expect(result.code).toBe(0);
    const message = lineAt(result.lines, 'maybe-set', '/valves/1/config/properties/message');
    expect(message).toMatch(/^warning: /);
    expect(message).toContain(
      '"{{item.greeting}} {{request.name}}" reads item.greeting, which is set only conditionally: by property-set at /valves/0 (conditional)',
    );
    const response = lineAt(result.lines, 'maybe-set', '/response/1');
    expect(response).toMatch(/^warning: /);
    expect(response).toContain('names "greeting", which is set only conditionally');
    expect(result.lines.filter((l) => l.includes('maybe-set'))).toHaveLength(2);
    expect(result.lines.at(-1)).toMatch(/valid \(version [0-9a-f]{12}, \d+ pipes, 2 warnings\)/);
  });
});
