#!/usr/bin/env node
// Signs a user in to the demo through the OpenID Connect front door, as an app would, with
// openid-client: authorization code with PKCE (S256), then introspection and userinfo.
//
//   npm start                                   # in another terminal: the demo server
//   node examples/oidc-login.mjs                # shop-web (pool shoppers): username + password
//   node examples/oidc-login.mjs partner-portal # pool partners: then a code from var/otp-outbox.jsonl
//
// It prints the URL to open in a browser, receives the callback on the app's redirect URI
// (http://localhost:3000/callback for shop-web, 3001 shop-app, 3002 partner-portal), and
// prints what it got. ISSUER overrides http://127.0.0.1:8080/oidc/demo.
import { createServer } from 'node:http';
import * as client from 'openid-client';

const APPS = { 'shop-web': 3000, 'shop-app': 3001, 'partner-portal': 3002 };
const clientId = process.argv[2] ?? 'shop-web';
const port = APPS[clientId];
if (!port) {
  console.error(`usage: node examples/oidc-login.mjs [${Object.keys(APPS).join('|')}]`);
  process.exit(2);
}
const issuer = new URL(process.env.ISSUER ?? 'http://127.0.0.1:8080/oidc/demo');
const redirectUri = `http://localhost:${port}/callback`;

// Plain http is for the local demo only; a real issuer is https.
const config = await client.discovery(issuer, clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email phone offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
console.log(`Open this URL in a browser and sign in (alice / alice-pass-1):\n\n  ${url.href}\n`);

const callback = await new Promise((resolve) => {
  const server = createServer((req, res) => {
    const here = new URL(req.url ?? '/', redirectUri);
    // Only the authorization response (a code or an error) ends the wait; a stray request does not.
    if (here.pathname !== '/callback' || !(here.searchParams.has('code') || here.searchParams.has('error'))) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      .end('Signed in. You can close this tab and look at the terminal.\n');
    server.close();
    resolve(here);
  }).listen(port, '127.0.0.1'); // what browsers reach for localhost
});

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
});
console.log('id_token claims:', tokens.claims());
console.log('access_token expires in', tokens.expires_in, 's; refresh_token:', tokens.refresh_token ? 'yes' : 'no');
console.log('introspection:', await client.tokenIntrospection(config, tokens.access_token));
console.log('userinfo:', await client.fetchUserInfo(config, tokens.access_token, tokens.claims()?.sub ?? client.skipSubjectCheck));
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
console.log('refreshed: a new refresh token', refreshed.refresh_token !== tokens.refresh_token ? '(rotated)' : '(same)');
