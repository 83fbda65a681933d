/**
 * GET /admin/valves: what the console's pipe views and editor know about pipes. Every
 * registered valve with its one-line summary and config schema (descriptions, defaults,
 * enums: the editor completes from them and the diagram shows them), and the members of a
 * pipe and of a step, from the same schema files the loader validates with.
 */
import type { ValveRegistry } from '../engine/registry.js';
import { pipeSchema } from '../engine/pipe-schema.js';
import type { AdminRoute } from './routes.js';
import { API_TITLES, APIS, RESOURCES } from '../access-groups/resources.js';

export function referenceRoutes(registry: ValveRegistry): AdminRoute[] {
  const body = JSON.stringify({
    pipe: pipeSchema.properties,
    step: pipeSchema.properties.valves.items.properties,
    valves: registry
      .all()
      .map(({ definition }) => ({ name: definition.name, summary: definition.summary, configSchema: definition.configSchema })),
  });
  const resources = JSON.stringify({
    apis: APIS.map((api) => ({ id: api, title: API_TITLES[api], resources: RESOURCES[api] })),
    levels: ['none', 'read', 'write'],
  });
  return [
    {
      // The access-groups permissions table: its rows, from the one list of resources (access-groups/resources.ts).
      method: 'GET',
      path: '/admin/resources',
      async handle(call) {
        call.send(200, JSON.parse(resources));
      },
    },
    {
      method: 'GET',
      path: '/admin/valves',
      async handle(call) {
        call.send(200, JSON.parse(body));
      },
    },
  ];
}
