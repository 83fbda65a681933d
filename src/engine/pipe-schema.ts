import type { ValveRegistry } from './registry.js';
import type { ConfigOf } from './valve.js';
import { OPERATION_PATTERN } from '../config-kit/patterns.js';

/**
 * The JSON Schema of a pipe file. The loader validates this generic shape first, then each
 * valve's config against that valve's own schema. `pipeSchemaForEditors` folds the valve
 * schemas in (if name is X then config is X's schema), for schemas/pipe.schema.json.
 */
export const pipeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://authpipe.dev/schemas/pipe.schema.json',
  title: 'authpipe pipe',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'valves'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this JSON Schema, for editors; ignored by the loader.' },
    id: { type: 'string', pattern: OPERATION_PATTERN, description: 'Equals the file name without .json, and the operation it serves.' },
    description: { type: 'string', description: 'What the pipe is for, for people reading it; ignored by the engine.' },
    valves: {
      description: 'The steps, run in order against one item; the first refusal ends the call unless the step has proceed_on_error.',
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', description: 'The valve type.' },
          id: { type: 'string', minLength: 1, maxLength: 64, description: 'A label for traces and logs.' },
          description: { type: 'string', description: 'What the step does, for people reading the pipe; ignored by the engine.' },
          enabled: {
            type: 'boolean',
            default: true,
            description: 'false: the step is left out of the compiled pipe (its config is still checked).',
          },
          exec_if: { description: 'json-logic over {request, item, session, tenant, operation, error}: run only when true.' },
          skip_if: { description: 'json-logic over {request, item, session, tenant, operation, error}: skip when true.' },
          proceed_on_error: { type: 'boolean', default: false, description: 'A refusal is recorded in `error` and the pipe goes on.' },
          sets: {
            type: 'array',
            uniqueItems: true,
            items: { type: 'string', pattern: '^(item|session)\\.[A-Za-z_][A-Za-z0-9_-]{0,99}$' },
            description:
              'Properties this step sets that the pipe check cannot see (e.g. names an HTTP adapter answers), as item.x or session.x; they count as always set after it.',
          },
          config: {
            type: 'object',
            description: "The valve's options, checked against that valve's own schema (see the valve reference).",
          },
        },
      },
    },
    response: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
      description: 'Item properties returned on 200. Nothing else is returned.',
      default: [],
    },
  },
} as const;

/** A pipe file as loaded: validated, defaults applied (enabled, proceed_on_error, response). */
export type PipeConfig = ConfigOf<typeof pipeSchema>;

export function pipeSchemaForEditors(registry: ValveRegistry): Record<string, unknown> {
  const valveItem = pipeSchema.properties.valves.items;
  return {
    ...pipeSchema,
    properties: {
      ...pipeSchema.properties,
      valves: {
        type: 'array',
        items: {
          ...valveItem,
          properties: { ...valveItem.properties, name: { enum: registry.names(), description: 'The valve type.' } },
          allOf: registry.all().map(({ definition }) => ({
            if: { properties: { name: { const: definition.name } }, required: ['name'] },
            then: { properties: { config: { description: definition.summary, ...stripSchemaKeyword(definition.configSchema) } } },
          })),
        },
      },
    },
  };
}

function stripSchemaKeyword(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}
