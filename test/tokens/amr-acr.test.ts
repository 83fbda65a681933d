import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { startServer, type RunningServer } from '../support/server.js';
import type { ConfigFixture } from '../support/fixture.js';
import { tokenFixture } from './support.js';

/**
 * `amr` (RFC 8176) is an array in the token and `acr` a string; both survive refreshes. The
 * 200 body stays flat strings, and token-verify flattens the array to a space-separated
 * property.
 */
let fixture: ConfigFixture;
let server: RunningServer;

beforeAll(async () => {
  fixture = tokenFixture({
    pipes: {
      'mfa-login': {
        valves: [
          { name: 'property-set', config: { properties: { sub: '{{request.username}}', level: 'urn:demo:acr:two-factor' } } },
          { name: 'token-mint', config: { kind: 'user', amr: ['pwd', 'otp'], acr: '{{item.level}}' } },
        ],
        response: ['access_token', 'token_type', 'expires_in', 'refresh_token'],
      },
      'introspect-amr': { valves: [{ name: 'token-verify' }], response: ['sub', 'amr', 'acr'] },
    },
  });
  server = await startServer({ configFile: fixture.mainFile });
});
afterAll(async () => {
  await server.close();
  fixture.cleanup();
});

describe('amr and acr', () => {
  it('are an array and a string in the token, kept across a refresh, flat in answers', async () => {
    const login = await server.call('mfa-login', { username: 'user-9' });
    expect(login.status).toBe(200);
    for (const value of Object.values(login.body)) expect(typeof value).toBe('string');
    expect(decodeJwt(login.body.access_token)).toMatchObject({ sub: 'user-9', amr: ['pwd', 'otp'], acr: 'urn:demo:acr:two-factor' });
    const refreshed = await server.call('token-refresh', { refresh_token: login.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token)).toMatchObject({ amr: ['pwd', 'otp'], acr: 'urn:demo:acr:two-factor' });
    const seen = await server.call('introspect-amr', {}, { authorization: `Bearer ${refreshed.body.access_token}` });
    expect(seen.body).toEqual({ sub: 'user-9', amr: 'pwd otp', acr: 'urn:demo:acr:two-factor' });
  });

  it('a token without them has neither claim', async () => {
    const login = await server.call('user-login', { username: 'user-8' });
    const claims = decodeJwt(login.body.access_token);
    expect(claims.amr).toBeUndefined();
    expect(claims.acr).toBeUndefined();
  });

  it('amr and acr are registered: a configured claim of that name fails the load', async () => {
    const bad = tokenFixture({
      pipes: { 'user-login': { valves: [{ name: 'token-mint', config: { kind: 'user', claims: { amr: 'pwd' } } }], response: [] } },
    });
    try {
      await expect(startServer({ configFile: bad.mainFile })).rejects.toThrow(/user-login\.json: \/valves\/0\/config\/claims\/amr/);
    } finally {
      bad.cleanup();
    }
  });
});
