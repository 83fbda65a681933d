/**
 * The access-groups feature: the main file's `access_groups` names the file of custom groups
 * and the default group per tenant (load.ts), checked against the directory's references.
 * Registered after the directory in src/features.ts.
 */
import { defineFeature } from '../config/feature.js';
import type { AccessGroups } from './groups.js';
import { loadAccessGroups } from './load.js';

declare module '../config/main-schema.js' {
  interface FeatureSections {
    access_groups?: string;
  }
}
declare module '../engine/services.js' {
  interface FeatureServices {
    /** Built-in and custom access groups per tenant (config/access-groups.json), rebuilt per load. */
    readonly accessGroups?: AccessGroups;
  }
}

export const accessGroupsFeature = defineFeature({
  name: 'access groups',
  sections: {
    access_groups: {
      type: 'string',
      minLength: 1,
      description:
        'The access-groups file (custom groups and the default group per tenant); relative to this file. Absent: built-in groups only, no default.',
    },
  },
  service: 'accessGroups',
  build: loadAccessGroups,
});
