#!/usr/bin/env node
// A stand-in upstream OpenID provider for the demo (a second oidc-provider, nothing of
// authpipe): the identity provider an app signed its user in with before it asks authpipe for
// our token (external-login), and later the one the hosted login federates to.
//
//   node examples/upstream-idp.mjs              # serves http://127.0.0.1:4000 (PORT overrides)
//   node examples/upstream-idp.mjs id-token     # in another terminal: signs carol in, prints her ID token
//   node examples/upstream-idp.mjs id-token mobile-backend   # the same, for the client mobile-backend
//
// User carol / carol-pass-1 (carol@example.com, verified). Clients:
// - authpipe-demo / authpipe-demo-secret: authorization code, redirect URI
//   http://127.0.0.1:8080/oidc/demo/federation/upstream/callback;
// - mobile-backend / mobile-backend-secret: client credentials, and authorization code with the
//   redirect URI http://127.0.0.1:4000/demo/callback (nothing listens there).
// `id-token` runs the authorization code flow over HTTP like a browser would (the login form
// with carol's password, consent given automatically), stops at the redirect instead of
// following it, exchanges the code with the client's secret and prints the id_token. Then:
//
//   curl -s -X PUT http://127.0.0.1:8080/api/authentication/external-login -H 'tenant: demo' \
//     -H 'Content-Type: application/json' -d "{\"id_token\":\"$(node examples/upstream-idp.mjs id-token)\"}"
//
// Its signing key is made at each start (the JWKS changes; authpipe refetches it for an unknown kid).
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 4000);
const issuer = `http://127.0.0.1:${port}`;
const CLIENTS = {
  'authpipe-demo': { secret: 'authpipe-demo-secret', redirect: 'http://127.0.0.1:8080/oidc/demo/federation/upstream/callback' },
  'mobile-backend': { secret: 'mobile-backend-secret', redirect: `${issuer}/demo/callback` },
};
const CAROL = { sub: 'carol', email: 'carol@example.com', email_verified: true, name: 'Carol Upstream' };
const PASSWORDS = { carol: 'carol-pass-1' };

if (process.argv[2] === 'id-token') {
  console.log(await signInCarol(process.argv[3] ?? 'authpipe-demo'));
} else {
  await serve();
}

async function serve() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    clients: [
      {
        client_id: 'authpipe-demo',
        client_secret: CLIENTS['authpipe-demo'].secret,
        redirect_uris: [CLIENTS['authpipe-demo'].redirect],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      {
        client_id: 'mobile-backend',
        client_secret: CLIENTS['mobile-backend'].secret,
        redirect_uris: [CLIENTS['mobile-backend'].redirect],
        grant_types: ['authorization_code', 'client_credentials'],
        response_types: ['code'],
      },
    ],
    // The scope's claims in the ID token itself (not only at userinfo): what external-login maps.
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
    pkce: { required: () => true },
    findAccount: (ctx, id) => (id === CAROL.sub ? { accountId: id, claims: () => CAROL } : undefined),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // First-party clients: consent is given without asking.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const handler = provider.callback();
  const server = createServer((req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(req.url ?? '');
    if (!match) return handler(req, res);
    interaction(provider, req, res, match[2] !== undefined).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`interaction failed: ${err.message}\n`);
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`upstream OpenID provider listening on ${issuer}`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** The login page (GET) and its answer (POST …/login): carol and her password, nothing else. */
async function interaction(provider, req, res, submitted) {
  const details = await provider.interactionDetails(req, res);
  if (submitted && req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    const username = form.get('username') ?? '';
    if (PASSWORDS[username] !== undefined && PASSWORDS[username] === form.get('password')) {
      return provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    }
    return page(res, details.uid, 'Wrong username or password.');
  }
  page(res, details.uid, '');
}

function page(res, uid, error) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
    `<!doctype html><title>Upstream sign-in</title><h1>Upstream IdP</h1>${error ? `<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="username" autofocus></label> <label>Password <input name="password" type="password"></label>
<button>Sign in</button></form>`,
  );
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 4096) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The authorization code flow as a browser and the client's back end would run it, for carol. */
async function signInCarol(clientId) {
  const client = CLIENTS[clientId];
  if (!client) throw new Error(`unknown client ${clientId}; one of ${Object.keys(CLIENTS).join(', ')}`);
  const cookies = new Map();
  const go = async (url, init = {}) => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: [...cookies].map(([n, v]) => `${n}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return res;
  };
  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL('/auth', issuer);
  auth.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid email profile',
    redirect_uri: client.redirect,
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  let next = auth.href;
  let init = {};
  for (let hops = 0; hops < 10; hops++) {
    if (next.startsWith(client.redirect)) {
      const code = new URL(next).searchParams.get('code');
      if (!code) throw new Error(`the provider answered ${next}`);
      const token = await fetch(new URL('/token', issuer), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${client.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirect, code_verifier: verifier }),
      });
      const answer = await token.json();
      if (!answer.id_token) throw new Error(`no id_token: ${JSON.stringify(answer)}`);
      return answer.id_token;
    }
    const res = await go(next, init);
    init = {};
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      next = new URL(location, next).href;
      continue;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`unexpected page (${res.status}) at ${next}: ${html.slice(0, 200)}`);
    next = new URL(action, next).href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'carol', password: PASSWORDS.carol }).toString(),
    };
  }
  throw new Error('too many redirects');
}
