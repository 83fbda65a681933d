/**
 * The curl examples of README.md and docs/*.md, run against the demo (a copy of it, served
 * on free ports in place of 8080 and 9090). Every example whose comment line just above states
 * the status (`# 200 …`, `# 403 …`) and which needs nothing from an earlier step (no shell
 * variable, no `…` placeholder) must answer that status; a doc that drifts from the code fails
 * here. Examples that need a server the test does not run are listed in NEEDS, with why.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigFixture, ROOT } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/** Operations whose examples need a service outside the demo. */
const NEEDS: Readonly<Record<string, string>> = {
  'ldap-login': 'an LDAP server at corp-ldap (test/idp/ldap.test.ts runs the shipped pipe against slapd)',
};

interface Example {
  file: string;
  status: number;
  command: string;
}

/** Each `curl` command (continuation lines joined) with the `# NNN` comment right above it. */
function examples(): Example[] {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const found: Example[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const block of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
      const lines = (block[1] as string).split('\n');
      let status: number | undefined;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        const stated = /^#\s*(\d{3})\b/.exec(line);
        if (stated) {
          status = Number(stated[1]);
          continue;
        }
        if (line.startsWith('#')) continue; // a comment continuing the one above
        if (!line.startsWith('curl ')) {
          status = undefined;
          continue;
        }
        let command = line;
        while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${(lines[++i] as string).trim()}`;
        // A trailing comment, or a pipe into jq, is not part of the request.
        command = command.replace(/\s+#.*$/, '').replace(/\s+\|\s+jq\b.*$/, '');
        if (status !== undefined && !/[$…]/.test(command)) found.push({ file, status, command });
        status = undefined;
      }
    }
  }
  return found;
}

const EXAMPLES = examples();
let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = ConfigFixture.fromDemo();
  // The demo writes OTP codes to an outbox in the working folder: keep the test's in its copy.
  fixture.keepOutboxInside('otp-start', 'till-approval-start');
  server = await startServer({ configFile: fixture.mainFile, env: { ...process.env, PORT: '0', HOST: '127.0.0.1' } });
});
afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
});

describe('curl examples in the docs', () => {
  it('finds the examples (a parser that finds none would pass everything)', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(10);
    expect(new Set(EXAMPLES.map((e) => e.file)).size).toBeGreaterThanOrEqual(5);
  });

  it.each(EXAMPLES.map((e) => [`${e.file}: ${e.status} ${e.command.slice(0, 90)}`, e] as const))('%s', async (_name, example) => {
    const operation = /\/api\/authentication\/([\w-]+)/.exec(example.command)?.[1];
    if (operation && NEEDS[operation]) return;
    const command = example.command
      .replaceAll('http://127.0.0.1:8080', server.url)
      .replaceAll('http://127.0.0.1:9090', server.managementUrl)
      .replace(/^curl /, "curl -o /dev/null -w '%{http_code}' --max-time 10 ");
    // Asynchronously: the server answers from this very process.
    const { stdout } = await promisify(execFile)('bash', ['-c', command], { encoding: 'utf8' });
    expect(Number(stdout)).toBe(example.status);
  });
});
