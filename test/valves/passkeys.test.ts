/**
 * passkey-options and passkey-verify over PUT: a registration then sign-ins with a software
 * authenticator (node:crypto), and each bad answer refused with its code: a wrong challenge,
 * origin or rp id, a replayed counter, a used challenge, another account's credential.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { buildValve, type BuiltValve } from '../support/run-valve.js';
import { ManualClock } from '../support/clock.js';
import { SoftAuthenticator, type Tamper } from '../support/webauthn.js';
import passkeyOptions from '../../src/valves/passkey-options.js';
import passkeyVerify from '../../src/valves/passkey-verify.js';
import { buildDirectory } from '../../src/directory/load.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { ConfigIssue } from '../../src/config-kit/issues.js';
import type { Store } from '../../src/store/store.js';
import { createStore } from '../../src/store/create.js';
import { systemClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/logger.js';
import { storeConfig } from '../support/config-defaults.js';
import { STORE_HARNESSES, type HarnessRun } from '../support/store-harnesses.js';

const RP = 'login.example.com';
const ORIGIN = 'https://login.example.com';

function setup(store?: Store) {
  const clock = new ManualClock();
  const issues: ConfigIssue[] = [];
  const directory = buildDirectory(
    {
      tenants: {
        acme: {
          users: [
            { id: 'u-1', username: 'alice' },
            { id: 'u-2', username: 'bob' },
          ],
        },
      },
    },
    'directory.json',
    issues,
  );
  const services = { clock, store: store ?? new MemoryStore(clock), directory };
  const rp = { rp_id: RP };
  return {
    clock,
    regOptions: buildValve(passkeyOptions, { ceremony: 'registration', user: '{{item.sub}}', ...rp }, services),
    regVerify: buildValve(passkeyVerify, { ceremony: 'registration', user: '{{item.sub}}', ...rp, origins: [ORIGIN] }, services),
    authOptions: buildValve(
      passkeyOptions,
      { ceremony: 'authentication', user: '{{request.username}}', user_by: 'username', ...rp },
      services,
    ),
    authVerify: buildValve(passkeyVerify, { ceremony: 'authentication', ...rp, origins: [ORIGIN] }, services),
  };
}

type Setup = ReturnType<typeof setup>;

async function options(valve: BuiltValve, input: Parameters<BuiltValve['call']>[0]) {
  const { item, error } = await valve.call(input);
  expect(error).toBeUndefined();
  return {
    id: item.passkey_challenge_id as string,
    options: JSON.parse(item.passkey_options as string) as { challenge: string; allowCredentials?: { id: string }[]; rp?: { id: string } },
  };
}

async function enrol(s: Setup, sub: string, authenticator: SoftAuthenticator, t: Tamper = {}) {
  const { id, options: o } = await options(s.regOptions, { item: { sub } });
  return s.regVerify.call({ item: { sub }, request: { passkey_challenge_id: id, passkey_response: authenticator.register(o, t) } });
}

async function signIn(s: Setup, username: string, authenticator: SoftAuthenticator, userId: string, t: Tamper = {}) {
  const { id, options: o } = await options(s.authOptions, { request: { username } });
  return s.authVerify.call({ request: { username, passkey_challenge_id: id, passkey_response: authenticator.authenticate(o, userId, t) } });
}

describe('passkey valves', () => {
  let s: Setup;
  let alice: SoftAuthenticator;
  beforeEach(async () => {
    s = setup();
    alice = new SoftAuthenticator(RP, ORIGIN);
    const { error } = await enrol(s, 'u-1', alice);
    expect(error).toBeUndefined();
  });

  it('enrols a passkey and signs in with it, username first and usernameless, proving swk', async () => {
    const named = await signIn(s, 'alice', alice, 'u-1');
    expect(named.error).toBeUndefined();
    expect(named.item.sub).toBe('u-1');
    expect(named.ctx.proved.amr).toEqual(['swk']);
    const { id, options: o } = await options(s.authOptions, { request: { username: '' } });
    expect(o.allowCredentials ?? []).toEqual([]);
    expect(o.rp ?? { id: RP }).toBeDefined();
    const usernameless = await s.authVerify.call({ request: { passkey_challenge_id: id, passkey_response: alice.authenticate(o, 'u-1') } });
    expect(usernameless.error).toBeUndefined();
    expect(usernameless.item.sub).toBe('u-1');
  });

  it('lists the credentials of the user named first', async () => {
    const { options: o } = await options(s.authOptions, { request: { username: 'alice' } });
    expect(o.allowCredentials?.map((c) => c.id)).toEqual([alice.id]);
  });

  it('refuses a wrong challenge, a used or unknown challenge id, and the other ceremony', async () => {
    expect((await signIn(s, 'alice', alice, 'u-1', { challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).error?.code).toBe(
      'PASSKEY_CHALLENGE_INVALID',
    );
    const { id, options: o } = await options(s.authOptions, { request: { username: 'alice' } });
    const answer = alice.authenticate(o, 'u-1');
    expect((await s.authVerify.call({ request: { passkey_challenge_id: id, passkey_response: answer } })).error).toBeUndefined();
    const again = await s.authVerify.call({ request: { passkey_challenge_id: id, passkey_response: answer } });
    expect(again.error?.code).toBe('PASSKEY_CHALLENGE_INVALID');
    expect(again.error?.erroneousProperties).toEqual(['passkey_challenge_id']);
    expect((await s.authVerify.call({ request: { passkey_challenge_id: 'nope', passkey_response: answer } })).error?.code).toBe(
      'PASSKEY_CHALLENGE_INVALID',
    );
    const reg = await options(s.regOptions, { item: { sub: 'u-1' } });
    expect((await s.authVerify.call({ request: { passkey_challenge_id: reg.id, passkey_response: answer } })).error?.code).toBe(
      'PASSKEY_CHALLENGE_INVALID',
    );
  });

  it('refuses an expired challenge', async () => {
    const { id, options: o } = await options(s.authOptions, { request: { username: 'alice' } });
    s.clock.advance(121_000);
    const late = await s.authVerify.call({ request: { passkey_challenge_id: id, passkey_response: alice.authenticate(o, 'u-1') } });
    expect(late.error?.code).toBe('PASSKEY_CHALLENGE_INVALID');
  });

  it('refuses a wrong origin and a wrong rp id, at sign-in and at registration', async () => {
    expect((await signIn(s, 'alice', alice, 'u-1', { origin: 'https://evil.example' })).error?.code).toBe('PASSKEY_ORIGIN_INVALID');
    expect((await signIn(s, 'alice', alice, 'u-1', { rpId: 'evil.example' })).error?.code).toBe('PASSKEY_RP_ID_INVALID');
    const bob = new SoftAuthenticator(RP, ORIGIN);
    expect((await enrol(s, 'u-2', bob, { origin: 'https://evil.example' })).error?.code).toBe('PASSKEY_ORIGIN_INVALID');
    expect((await enrol(s, 'u-2', bob, { rpId: 'evil.example' })).error?.code).toBe('PASSKEY_RP_ID_INVALID');
  });

  it('refuses a replayed counter', async () => {
    expect((await signIn(s, 'alice', alice, 'u-1', { counter: 5 })).error).toBeUndefined();
    const replay = await signIn(s, 'alice', alice, 'u-1', { counter: 5 });
    expect(replay.error?.code).toBe('PASSKEY_REPLAYED');
    expect((await signIn(s, 'alice', alice, 'u-1', { counter: 4 })).error?.code).toBe('PASSKEY_REPLAYED');
    expect((await signIn(s, 'alice', alice, 'u-1', { counter: 6 })).error).toBeUndefined();
  });

  it("refuses another account's credential, and a credential never registered", async () => {
    const bob = new SoftAuthenticator(RP, ORIGIN);
    expect((await enrol(s, 'u-2', bob)).error).toBeUndefined();
    // Bob's passkey answering a challenge made for alice.
    expect((await signIn(s, 'alice', bob, 'u-2')).error?.code).toBe('PASSKEY_CREDENTIAL_UNKNOWN');
    // Alice's passkey claiming bob's user handle, usernameless.
    const { id, options: o } = await options(s.authOptions, { request: { username: '' } });
    const forged = await s.authVerify.call({ request: { passkey_challenge_id: id, passkey_response: alice.authenticate(o, 'u-2') } });
    expect(forged.error?.code).toBe('PASSKEY_CREDENTIAL_UNKNOWN');
    const stranger = new SoftAuthenticator(RP, ORIGIN);
    expect((await signIn(s, 'alice', stranger, 'u-1')).error?.code).toBe('PASSKEY_CREDENTIAL_UNKNOWN');
  });

  it("refuses a registration for another user than the challenge's, a credential registered twice, no user verification, and garbage", async () => {
    const { id, options: o } = await options(s.regOptions, { item: { sub: 'u-1' } });
    const bob = new SoftAuthenticator(RP, ORIGIN);
    const other = await s.regVerify.call({
      item: { sub: 'u-2' },
      request: { passkey_challenge_id: id, passkey_response: bob.register(o) },
    });
    expect(other.error?.code).toBe('PASSKEY_CHALLENGE_INVALID');
    expect((await enrol(s, 'u-2', alice)).error?.code).toBe('PASSKEY_CREDENTIAL_UNKNOWN');
    expect((await enrol(s, 'u-2', bob, { userVerified: false })).error?.code).toBe('PASSKEY_INVALID');
    const reg = await options(s.regOptions, { item: { sub: 'u-2' } });
    const junk = await s.regVerify.call({ item: { sub: 'u-2' }, request: { passkey_challenge_id: reg.id, passkey_response: '{"x":' } });
    expect(junk.error?.code).toBe('PASSKEY_INVALID');
    expect(junk.error?.erroneousProperties).toEqual(['passkey_response']);
  });

  it('refuses options for a registration without a user', async () => {
    expect((await s.regOptions.call({ item: { sub: 'u-404' } })).error?.code).toBe('ACCESS_DENIED');
  });
});

STORE_HARNESSES.redis.describe('passkey valves on the Redis store', () => {
  let run: HarnessRun | undefined;
  let store: Store;
  beforeAll(async () => {
    run = await STORE_HARNESSES.redis.start();
    store = createStore(storeConfig({ type: 'redis', ...run.section }), {
      clock: systemClock,
      logger: silentLogger(),
      env: {},
      configDir: process.cwd(),
    });
    await run.ready?.(store);
  });
  afterAll(async () => {
    await store?.close();
    await run?.stop();
  });

  it("enrols, signs in, and refuses a replay and another account's credential", async () => {
    const s = setup(store);
    const alice = new SoftAuthenticator(RP, ORIGIN);
    const bob = new SoftAuthenticator(RP, ORIGIN);
    expect((await enrol(s, 'u-1', alice)).error).toBeUndefined();
    expect((await enrol(s, 'u-2', bob)).error).toBeUndefined();
    const ok = await signIn(s, 'alice', alice, 'u-1', { counter: 3 });
    expect(ok.error).toBeUndefined();
    expect(ok.item.sub).toBe('u-1');
    expect((await signIn(s, 'alice', alice, 'u-1', { counter: 3 })).error?.code).toBe('PASSKEY_REPLAYED');
    expect((await signIn(s, 'alice', bob, 'u-2')).error?.code).toBe('PASSKEY_CREDENTIAL_UNKNOWN');
  });
});
