import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { defineFeature, type FeatureContext } from '../config/feature.js';
import { pointer } from '../config-kit/issues.js';
import { createLdapConnections, type LdapConnectionOptions, type LdapConnections } from './ldap.js';
import { ldapSchema, type LdapConnectionConfig } from './ldap-schema.js';

declare module '../config/main-schema.js' {
  interface FeatureSections {
    ldap?: LdapConnectionConfig[];
  }
}
declare module '../engine/services.js' {
  interface FeatureServices {
    /** LDAP connections of the main file's `ldap` section, by id (absent when none). */
    readonly ldap?: LdapConnections;
  }
}

export const ldapFeature = defineFeature({
  name: 'ldap',
  sections: { ldap: ldapSchema },
  service: 'ldap',
  build: buildLdapConnections,
  close: (connections) => connections.close(),
});

/**
 * Builds the LDAP connections of the main file's `ldap` section. Nothing connects here
 * (connections open on first use), so loading and `validate` work with no server running;
 * what can be checked offline is: unique ids, a readable CA file, TLS options that will be
 * used, and no empty service password (an empty simple bind is anonymous, not a login).
 */
function buildLdapConnections(ctx: FeatureContext): LdapConnections | undefined {
  const entries = ctx.main.ldap;
  if (!entries) return undefined;
  const seen = new Set<string>();
  const options: LdapConnectionOptions[] = [];
  entries.forEach((entry, i) => {
    const at = (...rest: (string | number)[]) => pointer('ldap', i, ...rest);
    if (seen.has(entry.id))
      ctx.issues.push({ code: 'CONFIG_INVALID', file: ctx.file, pointer: at('id'), message: `duplicate LDAP connection id "${entry.id}"` });
    seen.add(entry.id);
    if (entry.bind_dn !== undefined && entry.bind_password === '') {
      ctx.issues.push({
        code: 'CONFIG_INVALID',
        file: ctx.file,
        pointer: at('bind_password'),
        message: 'is empty; an empty password binds anonymously (set it with ${env:NAME})',
      });
    }
    const secure = entry.url.startsWith('ldaps:');
    // No default object for tls: TLS options on a plain ldap:// URL are a mistake worth an issue.
    const tls: Partial<NonNullable<LdapConnectionConfig['tls']>> = entry.tls ?? {};
    const startTls = tls.start_tls === true;
    if (secure && startTls)
      ctx.issues.push({
        code: 'CONFIG_INVALID',
        file: ctx.file,
        pointer: at('tls', 'start_tls'),
        message: 'StartTLS is for ldap:// URLs; ldaps:// is TLS already',
      });
    // Defaults fill a written tls object, so look at what can only have been written.
    const tlsOptions = tls.ca_file !== undefined || tls.server_name !== undefined || tls.reject_unauthorized === false;
    if (!secure && !startTls && tlsOptions) {
      ctx.issues.push({
        code: 'CONFIG_INVALID',
        file: ctx.file,
        pointer: at('tls'),
        message: 'TLS options need an ldaps:// URL or "start_tls": true',
      });
    }
    let ca: string | undefined;
    if (tls.ca_file !== undefined) {
      const path = isAbsolute(tls.ca_file) ? tls.ca_file : resolve(ctx.dir, tls.ca_file);
      try {
        ca = readFileSync(path, 'utf8');
        ctx.hash(ca);
        ctx.watch(path);
      } catch (err) {
        ctx.issues.push({
          code: 'CONFIG_READ',
          file: ctx.file,
          pointer: at('tls', 'ca_file'),
          message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        });
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
              // An absent tls section never got the schema's reject_unauthorized default (true).
              rejectUnauthorized: tls.reject_unauthorized !== false,
              ...(ca !== undefined ? { ca } : {}),
              ...(tls.server_name !== undefined ? { servername: tls.server_name } : {}),
              // StartTLS upgrades an existing socket: tell tls which name the certificate must carry.
              ...(startTls && tls.server_name === undefined ? { host: urlHost(entry.url) } : {}),
            }
          : undefined,
      connectTimeoutMs: entry.connect_timeout_ms,
      timeoutMs: entry.timeout_ms,
      maxBindConnections: entry.max_bind_connections,
    });
  });
  return createLdapConnections(options);
}

function urlHost(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}
