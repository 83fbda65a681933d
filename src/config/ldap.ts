import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createLdapConnections, type LdapConnectionOptions, type LdapConnections } from '../idp/ldap.js';
import { pointer } from './issues.js';
import type { ConfigServiceContext } from './services.js';

/**
 * Builds the LDAP connections of the main file's `ldap` section. Nothing connects here
 * (connections open on first use), so loading and `validate` work with no server running;
 * what can be checked offline is: unique ids, a readable CA file, TLS options that will be
 * used, and no empty service password (an empty simple bind is anonymous, not a login).
 */
export function buildLdapConnections(ctx: ConfigServiceContext): LdapConnections | undefined {
  const entries = ctx.main.ldap;
  if (!entries) return undefined;
  const seen = new Set<string>();
  const options: LdapConnectionOptions[] = [];
  entries.forEach((entry, i) => {
    const at = (...rest: (string | number)[]) => pointer('ldap', i, ...rest);
    if (seen.has(entry.id)) ctx.issues.push({ file: ctx.file, pointer: at('id'), message: `duplicate LDAP connection id "${entry.id}"` });
    seen.add(entry.id);
    if (entry.bind_dn !== undefined && entry.bind_password === '') {
      ctx.issues.push({ file: ctx.file, pointer: at('bind_password'), message: 'is empty; an empty password binds anonymously (set it with ${env:NAME})' });
    }
    const secure = entry.url.startsWith('ldaps:');
    const tls = entry.tls ?? {};
    const startTls = tls.start_tls === true;
    if (secure && startTls) ctx.issues.push({ file: ctx.file, pointer: at('tls', 'start_tls'), message: 'StartTLS is for ldap:// URLs; ldaps:// is TLS already' });
    if (!secure && !startTls && Object.keys(tls).length > 0) {
      ctx.issues.push({ file: ctx.file, pointer: at('tls'), message: 'TLS options need an ldaps:// URL or "start_tls": true' });
    }
    let ca: string | undefined;
    if (tls.ca_file !== undefined) {
      const path = isAbsolute(tls.ca_file) ? tls.ca_file : resolve(ctx.dir, tls.ca_file);
      try {
        ca = readFileSync(path, 'utf8');
        ctx.hash(ca);
        ctx.watch(path);
      } catch (err) {
        ctx.issues.push({ file: ctx.file, pointer: at('tls', 'ca_file'), message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
      }
    }
    options.push({
      id: entry.id,
      url: entry.url,
      ...(entry.bind_dn !== undefined ? { bindDn: entry.bind_dn, bindPassword: entry.bind_password ?? '' } : {}),
      startTls,
      tlsOptions:
        secure || startTls
          ? {
              rejectUnauthorized: tls.reject_unauthorized !== false,
              ...(ca !== undefined ? { ca } : {}),
              ...(tls.server_name !== undefined ? { servername: tls.server_name } : {}),
              // StartTLS upgrades an existing socket: tell tls which name the certificate must carry.
              ...(startTls && tls.server_name === undefined ? { host: urlHost(entry.url) } : {}),
            }
          : undefined,
      connectTimeoutMs: entry.connect_timeout_ms ?? 3000,
      timeoutMs: entry.timeout_ms ?? 5000,
      maxBindConnections: entry.max_bind_connections ?? 4,
    });
  });
  return createLdapConnections(options);
}

function urlHost(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}
