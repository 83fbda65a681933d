/** The text of web/src/admin-api.ts: the typed admin API of the document the server serves (its routes need no config to list). */
import { configAdminRoutes, type ConfigAdminOptions } from './mount.js';
import { openApiDocument } from './openapi.js';
import { adminApiTypes } from './openapi-types.js';
import { createRegistry } from '../valves/index.js';

export function consoleApiTypes(): string {
  const routes = configAdminRoutes({ registry: createRegistry() } as ConfigAdminOptions);
  return adminApiTypes(openApiDocument(routes) as Parameters<typeof adminApiTypes>[0]);
}
