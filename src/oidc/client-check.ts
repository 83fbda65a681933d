/**
 * The URLs of a directory client that the front door calls itself (its `jwks_uri`, its
 * `backchannel_logout_uri`) are checked at load against outbound.allow of the main file, as
 * every URL the server calls from config is: the directory names clients, but only the
 * operator chooses where the server may connect. Each problem names the directory file and the
 * client's pointer.
 */
import { dirname, join } from 'node:path';
import { pointer, type ConfigIssue } from '../config-kit/issues.js';
import type { MainConfig } from '../config/main-schema.js';
import type { Directory } from '../directory/directory.js';
import type { OutboundPolicy } from '../outbound/policy.js';

export function checkClientUrls(
  main: MainConfig,
  file: string,
  directory: Directory,
  outbound: OutboundPolicy | undefined,
  issues: ConfigIssue[],
): void {
  if (!main.oidc || main.directory === undefined) return;
  const directoryFile = join(dirname(file), main.directory);
  for (const tenant of Object.keys(main.oidc.tenants))
    directory.clients(tenant).forEach((client, i) => {
      for (const name of ['jwks_uri', 'backchannel_logout_uri'] as const) {
        const url = client[name];
        if (url === undefined) continue;
        const refused = outbound ? outbound.refusal(new URL(url)) : 'there is no outbound policy';
        if (refused !== undefined)
          issues.push({
            code: 'CONFIG_OUTBOUND',
            file: directoryFile,
            pointer: pointer('tenants', tenant, 'clients', i, name),
            message: `client "${client.client_id}": ${refused}`,
          });
      }
    });
}
