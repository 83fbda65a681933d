/**
 * Where each tenant's issuer lives: `<public_url>/oidc/<tenant>`. The token service puts the
 * same issuer on every token of that tenant, PUT-minted ones included, so a resource server
 * configured for one tenant refuses another's tokens with any standard library.
 */
import type { MainConfig } from '../config/main-schema.js';

export const OIDC_PATH = '/oidc';

/** The external base URL: `public_url`, else the first listener (HOST and PORT applied, as `serve` does). */
function publicBaseUrl(main: MainConfig, env: Readonly<Record<string, string | undefined>>): string {
  if (main.oidc?.public_url) return main.oidc.public_url;
  // The schema asks for at least one listener, and fills in its host and port.
  const first = main.http_configuration[0] as MainConfig['http_configuration'][number];
  let host = env.HOST ?? first.host;
  if (host === '0.0.0.0' || host === '::') host = 'localhost';
  if (host.includes(':')) host = `[${host}]`;
  const port = env.PORT ?? String(first.port);
  return `http://${host}:${port}`;
}

export function oidcIssuers(main: MainConfig, env: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const issuers = new Map<string, string>();
  if (!main.oidc) return issuers;
  const base = publicBaseUrl(main, env);
  for (const tenant of Object.keys(main.oidc.tenants)) issuers.set(tenant, `${base}${OIDC_PATH}/${tenant}`);
  return issuers;
}
