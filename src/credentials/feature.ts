/**
 * The password-checks feature: owns the main file's `password_checks` section, the budget,
 * the failure floor and the hash threads' priority of cold password checks (check.ts). Read once, at start, by the
 * composition root; a reload does not change them.
 */
import { defineFeature } from '../config/feature.js';
import { defaultsOf } from '../config-kit/schema-defaults.js';
import type { ConfigOf } from '../engine/valve.js';

const passwordChecksSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'The budget and the failure floor of cold password checks (read at start only).',
  properties: {
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      description: 'Cold checks that may run at once; default the number of cores.',
    },
    queue: {
      type: 'integer',
      minimum: 0,
      maximum: 10000,
      description: 'Cold checks that may wait for a slot; beyond, RATE_LIMITED at once. Default 4 x concurrency.',
    },
    failure_floor_ms: {
      type: 'integer',
      minimum: 0,
      maximum: 60000,
      default: 0,
      description: 'Every refusal takes at least this long; the calibrated floor applies when it is larger.',
    },
    nice: {
      type: 'integer',
      minimum: 0,
      maximum: 19,
      default: 19,
      description:
        'CPU priority (Linux nice) of the threads that hash passwords: 19, the lowest, lets cached logins and every other request go first when the cores are busy; 0 hashes at normal priority.',
    },
    idle_class: {
      type: 'boolean',
      default: false,
      description:
        "Linux only, with util-linux's chrt: the hash threads also join the idle scheduling class, below nice 19. Cached logins keep more of their throughput beside a spray of unknown names; on a machine whose cores are saturated, cold checks (first logins, refusals, new passwords) then wait far longer.",
    },
    floor_margin: {
      type: 'number',
      minimum: 1,
      maximum: 10,
      default: 1.25,
      description: 'The calibrated floor: this times the wall time of the dearest hash profile, measured at start.',
    },
  },
} as const;

declare module '../config/main-schema.js' {
  interface FeatureSections {
    password_checks: ConfigOf<typeof passwordChecksSchema>;
  }
}

/** The section's defaults, for the process before `password_checks` is read at start. */
export const PASSWORD_CHECKS_DEFAULTS = defaultsOf(passwordChecksSchema.properties);

export const passwordChecksFeature = defineFeature({
  name: 'password checks',
  sections: { password_checks: passwordChecksSchema },
  build: () => undefined,
});
