/**
 * The JSON Schema of config/access-groups.json: per tenant, its custom groups and its
 * default group. Built-in groups are not in the file (they come from resources.ts), and
 * neither are store allocations: a store names its group in the directory, the one place
 * allocation lives. Resource names are enumerated from resources.ts, so an editor
 * completes them and a permission on a resource that does not exist fails the load.
 * `authpipe schemas` writes this to schemas/access-groups.schema.json.
 */
import { TENANT_PATTERN } from '../config-kit/patterns.js';
import { INVISIBLE_CHARACTERS } from './names.js';
import { APIS, API_TITLES, LEVELS, RESOURCES, type Permissions } from './resources.js';

export const GROUP_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
/**
 * Printable, nothing invisible or direction-changing (names.ts), no surrounding blanks: names
 * are shown in lists and compared by skeleton.
 */
const NAME_REFUSED = `\\u0000-\\u001f\\u007f${INVISIBLE_CHARACTERS}`;
export const GROUP_NAME_PATTERN = `^[^${NAME_REFUSED}\\s]([^${NAME_REFUSED}]*[^${NAME_REFUSED}\\s])?$`;
const TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$';

export const permissionsSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Per API, resource to none, read or write (write implies read). A resource left out is none.',
  properties: Object.fromEntries(
    APIS.map((api) => [
      api,
      {
        type: 'object',
        description: API_TITLES[api],
        additionalProperties: false,
        properties: Object.fromEntries(
          RESOURCES[api].map((r) => [
            r,
            { enum: LEVELS, description: `What the group may do with ${r}: none, read, or write (read and write).` },
          ]),
        ),
      },
    ]),
  ),
};

export const groupNameSchema = { type: 'string', minLength: 1, maxLength: 64, pattern: GROUP_NAME_PATTERN };
export const groupDescriptionSchema = { type: 'string', maxLength: 512, pattern: TEXT_PATTERN };
const actor = { type: 'string', minLength: 1, maxLength: 128 };
const instant = { type: 'string', format: 'date-time' };

export const accessGroupsSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://authpipe.dev/schemas/access-groups.schema.json',
  title: 'authpipe access groups (custom groups and the default group, per tenant)',
  type: 'object',
  additionalProperties: false,
  required: ['tenants'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this JSON Schema, for editors; ignored by the loader.' },
    tenants: {
      description: 'Custom groups and the default group per tenant id; a tenant left out has only the built-in groups and no default.',
      type: 'object',
      propertyNames: { pattern: TENANT_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          default: {
            type: 'string',
            pattern: GROUP_ID_PATTERN,
            description:
              'Id of the group of stores, clients and users that name none (a built-in: POS, Instore, Admin, or a custom group). Absent: they get nothing.',
          },
          groups: {
            type: 'array',
            description: 'Custom groups. The built-in groups POS, Instore and Admin exist in every tenant and are not listed.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'name', 'status', 'permissions'],
              properties: {
                id: {
                  type: 'string',
                  pattern: GROUP_ID_PATTERN,
                  description: 'Stable id that stores, clients and users name; never changes.',
                },
                name: {
                  ...groupNameSchema,
                  description:
                    'Shown in lists; stored NFKC-normalised; unique in the tenant, ignoring case and look-alike letters; no invisible or bidi control characters.',
                },
                description: { ...groupDescriptionSchema, description: 'What the group is for, shown to admins.' },
                status: { enum: ['active', 'inactive'], description: 'An inactive group grants nothing.' },
                permissions: permissionsSchema,
                createdOn: { ...instant, description: 'When the admin API created the group (ISO 8601); written by the server.' },
                createdBy: { ...actor, description: 'Subject of the admin who created the group; written by the server.' },
                lastUpdatedOn: { ...instant, description: 'When the admin API last changed the group (ISO 8601); written by the server.' },
                lastUpdatedBy: { ...actor, description: 'Subject of the admin who last changed the group; written by the server.' },
              },
            },
          },
        },
      },
    },
  },
} as const;

export type GroupStatus = 'active' | 'inactive';

export interface GroupRecord {
  id: string;
  name: string;
  description?: string;
  status: GroupStatus;
  permissions: Permissions;
  createdOn?: string;
  createdBy?: string;
  lastUpdatedOn?: string;
  lastUpdatedBy?: string;
}

export interface TenantGroupsRecord {
  default?: string;
  groups?: GroupRecord[];
}

export interface AccessGroupsFile {
  $schema?: string;
  tenants: Record<string, TenantGroupsRecord>;
}
