/**
 * idp-lookup source "directory": finds a user of the embedded directory, in the calling
 * tenant only, by username, mobile, email or id, and copies its attributes onto the item.
 * A missing user and a disabled one give the same refusal. Secrets (the TOTP secret) are
 * never mapped.
 */
import type { DirectoryUser } from '../directory/directory.js';
import type { ConfigOf } from '../engine/valve.js';
import { defineSource, notFound, PROPERTY_NAME, refusalOptions } from './source.js';

const FIELDS = ['id', 'username', 'mobile', 'email', 'status', 'access_group'] as const;
type Field = (typeof FIELDS)[number];
const FIELD = `^(${FIELDS.join('|')})$|^attributes\\.[A-Za-z0-9_.-]{1,100}$`;

type Read = (user: DirectoryUser) => string | undefined;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'value'],
  properties: {
    source: { const: 'directory' },
    by: { enum: ['username', 'mobile', 'email', 'id'], default: 'username', description: 'The user field `value` is compared with.' },
    value: { type: 'string', minLength: 1, description: 'Template of the value looked up, e.g. {{request.username}}.' },
    attributes: {
      type: 'object',
      description: `Item property -> user field (${FIELDS.join(', ')}, or attributes.<name>). Default: id, username, mobile, email and every attribute.`,
      propertyNames: { pattern: PROPERTY_NAME },
      additionalProperties: { type: 'string', pattern: FIELD },
    },
    ...refusalOptions,
  },
} as const;

export type DirectorySourceConfig = ConfigOf<typeof schema>;

export const directorySource = defineSource({
  source: 'directory',
  schema,
  create(config, tools) {
    const directory = tools.services.directory;
    const value = tools.template(config.value, '/value');
    const by = config.by;
    const refusal = notFound(config);
    const copy = config.attributes ? compileMapping(config.attributes) : copyDefault;

    return (ctx) => {
      const wanted = value.render(ctx.scope());
      if (wanted === '') throw refusal(`empty ${by}`);
      const user = directory.user(ctx.tenant.id, by, wanted);
      if (!user || user.status === 'disabled') throw refusal(user ? 'user is disabled' : 'no such user');
      copy(user, ctx.item().props);
    };
  },
});

function compileMapping(mapping: Record<string, string>): (user: DirectoryUser, props: Record<string, string>) => void {
  const reads = Object.entries(mapping).map(([property, field]) => [property, reader(field)] as const);
  return (user, props) => {
    for (const [property, read] of reads) {
      const found = read(user);
      if (found !== undefined) props[property] = found;
    }
  };
}

function reader(field: string): Read {
  if (field.startsWith('attributes.')) {
    const name = field.slice('attributes.'.length);
    return (user) => (user.attributes && Object.prototype.hasOwnProperty.call(user.attributes, name) ? user.attributes[name] : undefined);
  }
  const key = field as Field;
  return (user) => user[key];
}

function copyDefault(user: DirectoryUser, props: Record<string, string>): void {
  for (const [name, v] of Object.entries(user.attributes ?? {})) props[name] = v;
  // The directory's own fields win over an attribute of the same name.
  for (const key of ['id', 'username', 'mobile', 'email'] as const) {
    const v = user[key];
    if (v !== undefined) props[key] = v;
  }
}
