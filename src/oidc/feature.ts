/**
 * The OIDC feature: owns the main file's `oidc` section (the OpenID Connect front door, one
 * issuer per tenant). The providers themselves are mounted on the public listener by the
 * composition root (oidc/mount.ts), which reads the section from the loaded config; the hosted
 * login's templates, stylesheet and branding are read and compiled here, once per load
 * (`services.hostedLogin`); what the schema cannot say is checked once the pipes compile (check.ts).
 */
import { defineFeature } from '../config/feature.js';
import { checkOidcConfig } from './check.js';
import { checkSamlUpstreams, checkUpstreams } from './upstream-check.js';
import { checkClientUrls } from './client-check.js';
import { loadHostedUi, type HostedUi } from './hosted-ui.js';
import { oidcSchema, type OidcConfig } from './schema.js';

declare module '../config/main-schema.js' {
  interface FeatureSections {
    oidc?: OidcConfig;
  }
}

declare module '../engine/services.js' {
  interface FeatureServices {
    /** The hosted login's compiled templates, assets and branding; absent without an `oidc` section. */
    readonly hostedLogin?: HostedUi;
  }
}

export const oidcFeature = defineFeature({
  name: 'oidc',
  sections: { oidc: oidcSchema },
  service: 'hostedLogin',
  build: (ctx) => (ctx.main.oidc ? loadHostedUi(ctx.main.oidc, ctx) : undefined),
  checkCompiled: (ctx) => {
    checkOidcConfig(ctx.main, ctx.file, ctx.hasPipe, ctx.services.directory, ctx.issues);
    checkUpstreams(ctx.main, ctx.file, ctx.services.outbound, ctx.issues);
    checkClientUrls(ctx.main, ctx.file, ctx.services.directory, ctx.services.outbound, ctx.issues);
    checkSamlUpstreams(ctx.main, ctx.file, ctx.issues);
  },
});
