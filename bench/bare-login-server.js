// The till-login baseline: a bare node:http server doing the same work authpipe's cached
// till-login does, written by hand: parse Basic, check a verified-credential cache keyed by
// an HMAC of tenant, user, password and stored hash (one scrypt verification on a miss),
// and sign a 10-minute ES256 JWT with node:crypto on the batching signing threads authpipe
// uses (dist/tokens/sign-thread.js, so the thread use is the same by construction).
// The answer is authpipe's, byte for byte in shape: the same body members, the same claims
// (the till's store and access group, the group's scope), a kid as long as a thumbprint. What
// authpipe costs beyond this is ours.
import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { signThread } from '../dist/tokens/sign-thread.js';

const salt = randomBytes(16);
const tills = new Map([
  [
    'till-001',
    { hash: scryptSync('till-001-pass', salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }), store: 'store-01', group: 'POS' },
  ],
]);
const cacheKey = randomBytes(32);
const verified = new Map();
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
const signingKey = signThread.key('sha256', { key, dsaEncoding: 'ieee-p1363' });
const kid = randomBytes(32).toString('base64url');
const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid })).toString('base64url');
// The demo's POS access group.
const scopes = new Map([
  [
    'POS',
    'data:customer:write data:customer:read data:transaction:write data:transaction:read data:points:write data:points:read data:coupon:read',
  ],
]);

/** Calls `done` with the answer, or with null when the credentials fail. */
function login(authorization, done) {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization ?? '');
  if (!match) return done(null);
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return done(null);
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const till = tills.get(user);
  if (!till) return done(null);
  const k = createHmac('sha256', cacheKey).update(`demo\0${user}\0${password}\0`).update(till.hash).digest('base64');
  if (!verified.has(k)) {
    if (!timingSafeEqual(scryptSync(password, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }), till.hash))
      return done(null);
    verified.set(k, Date.now());
  }
  const now = Math.floor(Date.now() / 1000);
  const scope = scopes.get(till.group);
  const payload = Buffer.from(
    JSON.stringify({
      kind: 'till',
      store: till.store,
      access_group: till.group,
      iss: 'http://127.0.0.1:8080/oidc/demo',
      sub: user,
      aud: 'https://api.demo.example',
      iat: now,
      exp: now + 600,
      jti: randomUUID(),
      tenant: 'demo',
      scope,
      client_id: user,
    }),
  ).toString('base64url');
  const signed = (err, signature) => {
    done(
      err
        ? null
        : {
            sub: user,
            access_group: till.group,
            scope,
            access_token: `${header}.${payload}.${signature.toString('base64url')}`,
            token_type: 'Bearer',
            expires_in: '600',
          },
    );
  };
  signThread.sign(signingKey, `${header}.${payload}`).then(
    (signature) => signed(null, signature),
    (err) => signed(err),
  );
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method !== 'PUT' || req.headers.tenant !== 'demo') return answer(res, null);
    login(req.headers.authorization, (result) => answer(res, result));
  });
});

function answer(res, result) {
  const text = JSON.stringify(result ?? { status: 'Failure', errorTranslationKeys: ['INVALID_CREDENTIALS'] });
  res.writeHead(result ? 200 : 403, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-request-id': randomUUID(),
  });
  res.end(text);
}
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.send?.({ port: server.address().port }));
