import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dryRun } from '../../src/cli/dry-run.js';
import { ConfigError, type ConfigIssue } from '../../src/config-kit/issues.js';
import { looksLikeReference } from '../../src/config-kit/secrets.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createRegistry } from '../../src/valves/index.js';
import { runCli } from '../support/cli.js';
import { ConfigFixture } from '../support/fixture.js';

/**
 * A value a `${…}` reference resolved to is never quoted: issues (load, `authpipe
 * validate`) and traces show the reference as written, and an unreadable secret file is
 * reported alike whether the path exists or not.
 */
const store = new MemoryStore(systemClock);
const registry = createRegistry();
const options = { registry, runtime: () => ({ store, clock: systemClock, logger: silentLogger() }) };
let fixture: ConfigFixture;

afterEach(() => fixture?.cleanup());

function issuesOf(env: Record<string, string> = {}): ConfigIssue[] {
  try {
    loadConfig(fixture.mainFile, { ...options, env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('expected the load to fail');
}

/** Content no message may carry: an unbalanced template, which the template check quotes whole. */
const CONTENT = 'TOP-SECRET-CONTENT-4711 {{';

const pipeWith = (value: string) => ({
  valves: [{ name: 'property-set', config: { properties: { a: value } } }],
  response: ['a'],
});

describe('issues show the reference, never what it resolved to', () => {
  it('a secret file whose content fails the template check: the issue quotes ${file:…}, in the load and in authpipe validate', async () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: pipeWith('${file:secret.txt}') });
    fixture.write('pipes/secret.txt', `${CONTENT}\n`);
    const issues = issuesOf();
    expect(issues).toHaveLength(1);
    expect(issues[0]?.pointer).toBe('/valves/0/config/properties/a');
    expect(issues[0]?.message).toContain('${file:secret.txt}');
    expect(JSON.stringify(issues)).not.toContain('TOP-SECRET');
    const { code, out } = await runCli(['validate', '--config', fixture.mainFile]);
    expect(code).toBe(1);
    expect(out).toContain('${file:secret.txt}');
    expect(out).not.toContain('TOP-SECRET');
  });

  it('the same for an environment variable, also inside a longer string', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: pipeWith('prefix ${env:AUTHPIPE_TEST_SECRET} suffix') });
    const message = issuesOf({ AUTHPIPE_TEST_SECRET: CONTENT })[0]?.message ?? '';
    expect(message).toContain('prefix ${env:AUTHPIPE_TEST_SECRET} suffix');
    expect(message).not.toContain('TOP-SECRET');
  });

  it('an unreadable secret file and a missing one give the same issue, with no errno and no resolved path', () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: pipeWith('${file:secret.txt}') });
    const missing = issuesOf();
    // A folder where the file should be: it exists, and reading it fails (EISDIR), as it would for a file of another user.
    mkdirSync(join(fixture.dir, 'pipes/secret.txt'));
    expect(issuesOf()).toEqual(missing);
    expect(missing[0]).toMatchObject({ code: 'CONFIG_SECRET', message: 'the secret file of ${file:secret.txt} cannot be read' });
    expect(missing[0]?.message).not.toContain(fixture.dir);
  });
});

describe('the dry-run trace shows the reference', () => {
  it('a property set from a secret file is traced as ${file:…}', async () => {
    fixture = ConfigFixture.minimal([{ id: 't', allowedOperation: ['p'] }], { p: pipeWith('${file:secret.txt}') });
    fixture.write('pipes/secret.txt', 'TOP-SECRET-VALUE\n');
    const config = loadConfig(fixture.mainFile, { ...options, env: {} });
    const result = await dryRun(config, { operation: 'p', tenant: 't', data: '{}', trace: true });
    expect(result.status).toBe(200);
    expect(JSON.stringify(result.trace)).not.toContain('TOP-SECRET');
    expect(result.trace?.steps[0]?.changes).toContainEqual(expect.objectContaining({ name: 'a', value: '${file:secret.txt}' }));
  });
});

describe('one grammar for what the loader resolves and what the admin API refuses', () => {
  it('every spelling the loader resolves, and look-alikes it might, are references', () => {
    for (const text of [
      '${env:PATH}',
      '${file:/etc/hostname}',
      'x ${file:${env:HOME}/x} y',
      '${ FILE:x}',
      '${File:x}',
      '${env :x}',
      '${vault:secret/x}',
    ])
      expect([text, looksLikeReference(text)]).toEqual([text, true]);
    for (const text of ['{{request.username}}', '$100', '${}', '${ }', 'a $ {env:x}', 'price: ${5}'])
      expect([text, looksLikeReference(text)]).toEqual([text, false]);
  });
});
