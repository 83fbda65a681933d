/**
 * idp-lookup: finds the subject in an identity provider and puts its attributes on the
 * current item. Three sources, each in its own file under src/idp/:
 * - "directory": the embedded directory, by username, mobile, email or id;
 * - "ldap": a search on a connection of the main file (RFC 4515-escaped filter template),
 *   exactly one entry, optionally a password check by binding as it;
 * - "http": a synchronous adapter answering seed 003's AuthenticationResponse.
 * Not found, ambiguous and wrong password are one refusal; an unreachable provider is a
 * COMMUNICATION_ERROR fault in bounded time.
 */
import type { ValveDefinition, ValveRun } from '../engine/valve.js';
import { directorySource, type DirectorySourceConfig } from '../idp/directory.js';
import { httpSource, type HttpSourceConfig } from '../idp/http-adapter.js';
import { ldapSource, type LdapSourceConfig } from '../idp/ldap-source.js';
import type { IdpSource } from '../idp/source.js';

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
    return source.create(config, tools);
  },
};

export default idpLookup;
