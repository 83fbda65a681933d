/**
 * The OIDC feature: owns the main file's `oidc` section (the OpenID Connect front door, one
 * issuer per tenant). The providers themselves are mounted on the public listener by the
 * composition root (oidc/mount.ts), which reads the section from the loaded config; what the
 * schema cannot say is checked once the pipes compile (check.ts).
 */
import { defineFeature } from '../config/feature.js';
import { checkOidcConfig } from './check.js';
import { oidcSchema, type OidcConfig } from './schema.js';

declare module '../config/main-schema.js' {
  interface FeatureSections {
    oidc?: OidcConfig;
  }
}

export const oidcFeature = defineFeature({
  name: 'oidc',
  sections: { oidc: oidcSchema },
  build: () => undefined,
  checkCompiled: (ctx) => checkOidcConfig(ctx.main, ctx.file, ctx.hasPipe, ctx.services.directory, ctx.issues),
});
