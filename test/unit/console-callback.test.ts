import { describe, expect, it } from '@jest/globals';
import { checkCallback } from '../../web/src/callback.js';

describe("the console's sign-in callback (RFC 9207)", () => {
  const expected = { state: 's1', issuer: 'http://127.0.0.1:8080/oidc/demo' };
  const answer = (fields: Record<string, string>) => new URLSearchParams(fields);

  it('accepts the answer of the issuer the request went to', () => {
    expect(() => checkCallback(answer({ code: 'c', state: 's1', iss: expected.issuer }), expected)).not.toThrow();
  });

  it('refuses an answer naming another issuer, or none, before anything else', () => {
    for (const iss of ['http://127.0.0.1:8080/oidc/acme', '']) {
      expect(() => checkCallback(answer({ code: 'c', state: 's1', iss }), expected)).toThrow(/\(iss\)/);
      expect(() => checkCallback(answer({ error: 'access_denied', state: 's1', iss }), expected)).toThrow(/\(iss\)/);
    }
    expect(() => checkCallback(answer({ code: 'c', state: 's1' }), expected)).toThrow(/\(iss\)/);
  });

  it('refuses a wrong state', () => {
    expect(() => checkCallback(answer({ code: 'c', state: 'other', iss: expected.issuer }), expected)).toThrow(/state/);
  });
});
