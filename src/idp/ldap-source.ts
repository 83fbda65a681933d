/**
 * idp-lookup source "ldap": searches a connection from the main file's `ldap` section with a
 * filter template (values escaped per RFC 4515), requires exactly one entry, optionally binds
 * as it to check a password, and copies mapped attributes onto the item. No entry, several
 * entries and a wrong password all give the same refusal.
 */
import { normalizePassword, passwordFormSchema } from '../credentials/password-form.js';
import { fault } from '../errors.js';
import { compileFilterTemplate } from './ldap-filter.js';
import { filterSyntaxError, type LdapEntry } from './ldap.js';
import type { ConfigOf } from '../engine/valve.js';
import { defineSource, failureFloorSchema, idpLockoutSchema, notFound, PROPERTY_NAME, refusalOptions } from './source.js';

/** The mapping name for the entry's own DN rather than one of its attributes. */
const DN = 'dn';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'connection', 'base_dn', 'filter'],
  properties: {
    source: { const: 'ldap' },
    connection: { type: 'string', minLength: 1, description: 'Id of a connection in the main file\'s "ldap" section.' },
    base_dn: { type: 'string', minLength: 1, description: 'The DN the search starts at.' },
    scope: {
      enum: ['base', 'one', 'sub'],
      default: 'sub',
      description: 'Search depth: base (the base entry only), one (its children) or sub (the whole subtree).',
    },
    filter: {
      type: 'string',
      minLength: 3,
      description: 'e.g. (&(objectClass=inetOrgPerson)(uid={{request.username}})); values are escaped.',
    },
    attributes: {
      type: 'object',
      description: 'Item property -> LDAP attribute ("dn" for the entry DN). Several values are joined with `separator`.',
      propertyNames: { pattern: PROPERTY_NAME },
      additionalProperties: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9-]{0,99}$|^[0-9]+(\\.[0-9]+)+$' },
      default: {},
    },
    password: {
      type: 'string',
      minLength: 1,
      description: 'Template of the password to check by binding as the entry, e.g. {{request.password}}.',
    },
    password_normalization: passwordFormSchema('none'),
    separator: {
      type: 'string',
      minLength: 1,
      maxLength: 8,
      default: ',',
      description: 'Joins the values of an attribute that has several.',
    },
    lockout: idpLockoutSchema,
    // A search and a bind on a LAN take milliseconds; 250 leaves room for a slow moment.
    failure_floor_ms: failureFloorSchema(250),
    ...refusalOptions,
  },
} as const;

export type LdapSourceConfig = ConfigOf<typeof schema>;

export const ldapSource = defineSource({
  source: 'ldap',
  schema,
  create(config, tools) {
    const known = tools.services.ldap?.ids() ?? [];
    const connection =
      tools.services.ldap?.get(config.connection) ??
      tools.fail(
        '/connection',
        `names LDAP connection "${config.connection}"; ${known.length ? `expected one of ${known.join(', ')}` : 'the main file defines none (section "ldap")'}`,
        'CONFIG_REFERENCE',
      );
    const filter = compileFilterTemplate(config.filter, tools, '/filter');
    const syntax = filterSyntaxError(filter.sample('x'));
    if (syntax) tools.fail('/filter', `is not an LDAP filter: ${syntax}`, 'CONFIG_INVALID');
    const password = config.password === undefined ? null : tools.template(config.password, '/password');
    const passwordForm = normalizePassword(config.password_normalization, 'none');
    const mapping = Object.entries(config.attributes).map(([property, attribute]) => [property, attribute.toLowerCase()] as const);
    const requested = [...new Set(mapping.map(([, a]) => a).filter((a) => a !== DN))];
    const separator = config.separator;
    const refusal = notFound(config);
    const base = config.base_dn;
    const scope = config.scope;
    const decoyDn = `cn=authpipe-no-such-entry,${base}`;

    return async (ctx) => {
      const values = ctx.scope();
      const rendered = filter.render(values);
      if (rendered === null) throw refusal('a filter value is empty');
      // Two is enough to tell "exactly one" from "ambiguous" without reading a whole subtree.
      const entries = await connection.search({ base, scope, filter: rendered, attributes: requested, sizeLimit: 2 });
      if (entries.length !== 1) {
        // A login pays one bind whether or not the user exists, so timing does not tell.
        if (password) await connection.verifyPassword(decoyDn, passwordForm(password.render(values))).catch(() => false);
        throw refusal(entries.length === 0 ? 'no LDAP entry matches' : 'ambiguous: more than one LDAP entry matches');
      }
      const entry = entries[0] as LdapEntry;
      if (password && !(await connection.verifyPassword(entry.dn, passwordForm(password.render(values))))) {
        throw refusal('LDAP bind as the entry refused');
      }
      const props = ctx.item().props;
      for (const [property, attribute] of mapping) {
        if (attribute === DN) {
          props[property] = entry.dn;
          continue;
        }
        const found = entry.values.get(attribute);
        if (found) props[property] = join(found, separator, attribute);
      }
    };
  },
});

function join(values: readonly string[], separator: string, attribute: string): string {
  if (values.length > 1 && values.some((v) => v.includes(separator))) {
    // Joining would be ambiguous; failing beats handing out a list that splits wrongly.
    throw fault('COMMUNICATION_ERROR', {
      detail: `LDAP attribute ${attribute} has a value containing the separator "${separator}"; configure another`,
    });
  }
  return values.join(separator);
}
