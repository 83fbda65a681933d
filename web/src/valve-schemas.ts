/** Every valve's summary and config schema (GET /admin/valves), fetched once per session. */
import { call } from './api';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
}

export interface ValveSchemas {
  pipe: Record<string, JsonSchema>;
  step: Record<string, JsonSchema>;
  valves: { name: string; summary: string; configSchema: JsonSchema }[];
}

let loaded: Promise<ValveSchemas> | null = null;

export function valveSchemas(): Promise<ValveSchemas> {
  loaded ??= call<ValveSchemas>('GET', '/admin/valves').then((res) => {
    if (res.status !== 200) {
      loaded = null;
      throw new Error(`valves: HTTP ${res.status}`);
    }
    return res.body;
  });
  return loaded;
}
