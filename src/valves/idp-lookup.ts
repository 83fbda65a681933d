/**
 * idp-lookup: finds the subject in an identity provider and puts its attributes on the
 * current item. Three sources, each in its own file under src/idp/:
 * - "directory": the embedded directory, by username, mobile, email or id;
 * - "ldap": a search on a connection of the main file (RFC 4515-escaped filter template),
 *   exactly one entry, optionally a password check by binding as it;
 * - "http": a synchronous adapter answering seed 003's AuthenticationResponse.
 * Not found, ambiguous and wrong password are one refusal; an unreachable provider is a
 * COMMUNICATION_ERROR fault in bounded time. The ldap and http sources take a `lockout`
 * (credentials/check.ts withLockout): failures count per account key in the store, and a
 * locked account is refused without asking the provider. On by default for ldap with a
 * password (an LDAP login had none), off unless set for http.
 */
import { refuse } from '../errors.js';
import { withLockout } from '../credentials/check.js';
import { lockoutFrom } from '../credentials/lockout.js';
import type { ValveDefinition, ValveRun } from '../engine/valve.js';
import { directorySource, type DirectorySourceConfig } from '../idp/directory.js';
import { httpSource, type HttpSourceConfig } from '../idp/http-adapter.js';
import { ldapSource, type LdapSourceConfig } from '../idp/ldap-source.js';
import { idpLockoutSchema, type IdpLockoutConfig, type IdpSource } from '../idp/source.js';

type Config = DirectorySourceConfig | LdapSourceConfig | HttpSourceConfig;

const sources = [directorySource, ldapSource, httpSource] as const;

// The schema is assembled from the sources' schemas, so the config type is their union.
const idpLookup: ValveDefinition<Config> = {
  name: 'idp-lookup',
  summary: 'Look the subject up in the directory, an LDAP server or an HTTP adapter; copy its attributes onto the item.',
  configSchema: {
    type: 'object',
    required: ['source'],
    properties: { source: { enum: sources.map((s) => s.source) } },
    allOf: sources.map((s) => ({ if: { properties: { source: { const: s.source } }, required: ['source'] }, then: s.schema })),
  },
  create(config, tools): ValveRun {
    const source = sources.find((s) => s.source === config.source) as IdpSource<Config>;
    const run = source.create(config, tools);
    const lockoutConfig: IdpLockoutConfig | undefined =
      config.source === 'ldap' ? (config.lockout ?? (config.password === undefined ? { enabled: false } : {})) : config.source === 'http' ? (config.lockout ?? { enabled: false }) : undefined;
    const lockout = lockoutFrom(lockoutConfig, tools.fail);
    if (lockout === null || lockoutConfig === undefined) return run;
    // A section switched on by this valve ({}) has no defaults applied: the key's comes from the schema.
    const key = tools.template(lockoutConfig.key ?? idpLockoutSchema.properties.key.default, '/lockout/key');
    // Locked: the refusal a wrong password gets from this source.
    const code = config.source === 'http' ? config.failure_code : config.not_found_code;
    const erroneousProperties = config.source === 'http' ? [] : config.erroneous_properties;
    const locked = () => refuse(code, { erroneousProperties, detail: 'idp-lookup: account locked' });
    return async (ctx) => {
      const subject = key.render(ctx.scope());
      if (subject === '') return run(ctx);
      await withLockout(ctx, lockout, `idp:${config.source}:${subject}`, subject, locked, async () => run(ctx));
    };
  },
};

export default idpLookup;
