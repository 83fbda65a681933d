import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashPassword } from '../../src/credentials/hash.js';
import { basic } from '../support/credentials.js';
import { ConfigFixture } from '../support/fixture.js';
import { startServer, type RunningServer } from '../support/server.js';

/**
 * One password rule per source: basic-auth compares NFC unless told `none` (hashes imported
 * from a system that hashed the bytes as typed). LDAP and the HTTP adapter (test/idp) pass
 * the password through unless told `nfc`.
 */
const PRECOMPOSED = 'caf\u00e9-pass';
const DECOMPOSED = 'cafe\u0301-pass';

let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  const login = (extra: Record<string, unknown>) => ({
    valves: [{ name: 'basic-auth', config: { kind: 'till', lockout: { enabled: false }, cache_ttl_seconds: 0, ...extra } }],
    response: ['sub'],
  });
  fixture = ConfigFixture.minimal(
    [{ id: 'demo', allowedOperation: ['nfc', 'as-sent'] }],
    { nfc: login({}), 'as-sent': login({ password_normalization: 'none' }) },
    { directory: 'directory.json' },
  );
  const low = { ln: 10, r: 8, p: 1 };
  fixture.write('config/directory.json', {
    tenants: {
      demo: {
        stores: [{ id: 's1', name: 'Store' }],
        tills: [
          { username: 'till-nfc', password_hash: await hashPassword(PRECOMPOSED, low), store: 's1' },
          { username: 'till-raw', password_hash: await hashPassword(DECOMPOSED, low), store: 's1' },
        ],
      },
    },
  });
  server = await startServer({ configFile: fixture.mainFile });
});
afterAll(async () => {
  await server?.close();
  fixture?.cleanup();
});

const status = async (operation: string, till: string, password: string) =>
  (await server.call(operation, {}, { authorization: basic(till, password) })).status;

describe('basic-auth password_normalization', () => {
  it('nfc (the default): either form matches a hash of the NFC password', async () => {
    expect(await status('nfc', 'till-nfc', PRECOMPOSED)).toBe(200);
    expect(await status('nfc', 'till-nfc', DECOMPOSED)).toBe(200);
  });

  it('none: only the bytes that were hashed match, so an imported hash of a decomposed password works', async () => {
    expect(await status('as-sent', 'till-raw', DECOMPOSED)).toBe(200);
    expect(await status('as-sent', 'till-raw', PRECOMPOSED)).toBe(403);
    expect(await status('as-sent', 'till-nfc', DECOMPOSED)).toBe(403);
    // With nfc, the decomposed hash can never match.
    expect(await status('nfc', 'till-raw', DECOMPOSED)).toBe(403);
  });
});
