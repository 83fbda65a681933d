/**
 * The directory feature: the main file's `directory` names the directory file (tills,
 * stores, users and API clients per tenant), loaded and cross-checked on every load
 * (load.ts). Without it the directory is empty.
 */
import { defineFeature } from '../config/feature.js';
import type { Directory } from './directory.js';
import { loadDirectory } from './load.js';

declare module '../config/main-schema.js' {
  interface FeatureSections {
    directory?: string;
  }
}
declare module '../engine/services.js' {
  interface FeatureServices {
    /** Tills, stores, users and API clients per tenant (config/directory.json), rebuilt per load. */
    readonly directory: Directory;
  }
}

export const directoryFeature = defineFeature({
  name: 'directory',
  sections: {
    directory: {
      type: 'string',
      minLength: 1,
      description: 'The directory file (tills, stores, users, API clients per tenant); relative to this file. Absent: an empty directory.',
    },
  },
  service: 'directory',
  build: loadDirectory,
});
