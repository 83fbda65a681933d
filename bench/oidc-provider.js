/**
 * The comparison server for `npm run bench`: node-oidc-provider on a loopback ephemeral port
 * with one confidential client that may use the client-credentials grant, issuing ES256 JWT
 * access tokens (RFC 9068) for one resource server. It does the same work as authpipe's
 * till-login with token-mint kind system: check a client's Basic credentials, sign a
 * 10-minute access token. Used only by the bench (oidc-provider is a devDependency).
 *
 * In process:
 *   const op = await startOidcProvider();
 *   autocannon({ url: op.url, requests: [op.requestOptions], connections, duration }, done);
 *   await op.close();
 * (autocannon ignores a top-level `path`: pass requestOptions in `requests`, or use
 * `url: op.url + op.requestOptions.path` with method, headers and body at the top level.)
 *
 * As its own process, so that it does not share an event loop with the load generator:
 *   node bench/oidc-provider.js   prints one JSON line {url, requestOptions} and serves
 *                                 until SIGTERM or SIGINT.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-secret-not-for-production-0123456789';
export const RESOURCE = 'https://api.bench.example';
export const SCOPE = 'data:read data:write';

export async function startOidcProvider({ host = '127.0.0.1', ttl = 600 } = {}) {
  const server = createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address();
  const url = `http://${host}:${port}`;

  const signingKey = {
    ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
    alg: 'ES256',
    use: 'sig',
    kid: 'bench-es256',
  };
  const provider = new Provider(url, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [signingKey] },
    scopes: SCOPE.split(' '),
    cookies: { keys: ['bench-cookie-key-not-used-by-this-grant'] },
    ttl: { ClientCredentials: ttl },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenTTL: ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  // No per-request logging or warnings on the measured path.
  provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err.message}\n`));
  server.on('request', provider.callback());

  const basic = Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');
  return {
    url,
    requestOptions: {
      method: 'POST',
      path: '/token',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`,
    },
    /** The provider's JWKS, to check its tokens independently. */
    jwksUrl: `${url}/jwks`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const op = await startOidcProvider();
  process.stdout.write(`${JSON.stringify({ url: op.url, requestOptions: op.requestOptions })}\n`);
  const stop = () => op.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
